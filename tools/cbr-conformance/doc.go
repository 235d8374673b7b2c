// Package conformance drives rampart's Huawei CBR simulator with Huawei's official Go SDK
// (github.com/huaweicloud/huaweicloud-sdk-go-v3, services/cbr/v1 and services/iam/v3), so the
// simulator is checked against the vendor's own client and not only against rampart's.
//
// The tests start `rampart simulate huawei-cbr` (the binary named by $RAMPART_BIN) on a loopback
// port and read its address and credentials from its standard output. scripts/test runs them.
package conformance
