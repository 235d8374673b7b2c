//! Simulator of Huawei CBR v3 and its IAM token call.
