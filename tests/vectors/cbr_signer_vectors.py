#!/usr/bin/env python3
"""Produce AK/SK signing vectors for rampart's CBR signer with Huawei's own SDK core.

The requests below are signed by `huaweicloudsdkcore` (BasicCredentials -> Signer, the code path
every Huawei Cloud Python SDK call takes), with a fixed access key, secret key and X-Sdk-Date, and
written as JSON: the inputs, the canonical request and string to sign the SDK builds, and the
Authorization header it sends. rampart's Rust signer is tested against the committed output
(tests/vectors/cbr_signer_vectors.json); `cbr_signer_oracle.sh` regenerates it.

Usage: cbr_signer_vectors.py [OUTPUT.json]   (stdout when no path is given)
"""

import copy
import json
import sys
from datetime import datetime
from importlib import metadata

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK = "RAMPARTTESTACCESSKEY"
SK = "rampartTestSecretKey0123456789abcdefABCDEF"
PROJECT_ID = "f841e01fd2b14e7fa41b6ae7aa6b0594"
SDK_DATE = "20240131T123456Z"
HOST = "cbr.ru-moscow-1.hc.sbercloud.ru"
VAULT = "79bd9daa-884f-4f84-b8fe-235d58cd927d"
POLICY = "cbb3ce6f-3332-4e7c-b98e-77290d8471ff"
P = "/v3/" + PROJECT_ID

# name, method, host, path, query pairs, body (str or None)
CASES = [
    ("list vaults first page", "GET", HOST, P + "/vaults",
     [("limit", "1000"), ("offset", "0")], None),
    ("list vaults with filters", "GET", HOST, P + "/vaults",
     [("object_type", "server"), ("name", "vault name_01"), ("limit", "2"), ("offset", "4"),
      ("policy_id", POLICY)], None),
    ("resource type with colons", "GET", HOST, P + "/backups",
     [("resource_type", "OS::Nova::Server"), ("limit", "5"), ("offset", "0")], None),
    ("repeated query key", "GET", HOST, P + "/backups",
     [("status", "error"), ("status", "available"), ("vault_id", VAULT)], None),
    ("time filter and reserved characters", "GET", HOST, P + "/operation-logs",
     [("start_time", "2024-01-01T00:00:00Z"), ("end_time", "2024-01-31T23:59:59Z"),
      ("resource_name", "a+b/c=d&e~f*g"), ("vault_name", "\u0445\u0440\u0430\u043d\u0438\u043b\u0438\u0449\u0435")], None),
    ("get vault", "GET", HOST, P + "/vaults/" + VAULT, [], None),
    ("trailing slash", "GET", HOST, P + "/policies/", [], None),
    ("escaped path segment", "GET", HOST, P + "/vaults/a%20b", [], None),
    ("non-default port", "GET", "127.0.0.1:8443", P + "/policies",
     [("vault_id", VAULT), ("operation_type", "backup")], None),
    ("create vault", "POST", HOST, P + "/vaults", [],
     json.dumps({"vault": {"billing": {"consistent_level": "crash_consistent", "object_type": "server",
                                       "protect_type": "backup", "size": 100},
                           "name": "vault_name", "resources": [],
                           "tags": [{"key": "rampart-owner", "value": "team-a_vault-1"}]}},
                separators=(",", ":"))),
    ("add resources", "POST", HOST, P + "/vaults/" + VAULT + "/addresources", [],
     json.dumps({"resources": [{"id": "97595625-198e-4e4d-879b-9d53f68ba551", "type": "OS::Nova::Server",
                                "extra_info": {"exclude_volumes": ["bdef09bb-293f-446a-88a4-86e9f14408c4"]}}]})),
    ("associate policy", "POST", HOST, P + "/vaults/" + VAULT + "/associatepolicy", [],
     json.dumps({"policy_id": POLICY})),
    ("update policy", "PUT", HOST, P + "/policies/" + POLICY, [],
     json.dumps({"policy": {"enabled": True, "name": "policy001",
                            "operation_definition": {"max_backups": 1, "timezone": "UTC+08:00"},
                            "trigger": {"properties": {"pattern": [
                                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00"]}}}},
                ensure_ascii=False)),
    ("update vault with unicode body", "PUT", HOST, P + "/vaults/" + VAULT, [],
     json.dumps({"vault": {"name": "\u0445\u0440\u0430\u043d\u0438\u043b\u0438\u0449\u0435"}}, ensure_ascii=False)),
    ("delete vault", "DELETE", HOST, P + "/vaults/" + VAULT, [], None),
    ("delete policy with trailing slash", "DELETE", HOST, P + "/policies/" + POLICY + "/", [], None),
]


def build(method, host, path, query, body):
    headers = {"Content-Type": "application/json", "Host": host, "X-Sdk-Date": SDK_DATE}
    return SdkRequest(method=method, schema="https", host=host, resource_path=path,
                      query_params=list(query), header_params=headers,
                      body=body.encode("utf-8") if body is not None else None)


def vector(name, method, host, path, query, body):
    # What the SDK sends: BasicCredentials adds X-Project-Id, then signs.
    sent = BasicCredentials(AK, SK, PROJECT_ID).sign_request(build(method, host, path, query, body))

    # The SDK's intermediate strings, recomputed on an identical request (signing mutates it).
    probe = build(method, host, path, query, body)
    probe.header_params["X-Project-Id"] = PROJECT_ID
    signer = Signer(BasicCredentials(AK, SK, PROJECT_ID))
    signed_headers = signer._process_signed_headers(probe)
    canonical = signer._process_canonical_request(copy.deepcopy(probe), signed_headers)
    to_sign = signer._process_string_to_sign(canonical, datetime.strptime(SDK_DATE, "%Y%m%dT%H%M%SZ"))

    return {
        "name": name,
        "method": method,
        "path": path,
        "query": [[k, v] for k, v in query],
        "headers": [["Content-Type", "application/json"], ["Host", host], ["X-Project-Id", PROJECT_ID]],
        "body": body,
        "canonical_request": canonical,
        "string_to_sign": to_sign,
        "authorization": sent.header_params["Authorization"],
        "uri": sent.uri,
    }


def main():
    out = {
        "generator": "tests/vectors/cbr_signer_vectors.py",
        "sdk": "huaweicloudsdkcore " + metadata.version("huaweicloudsdkcore"),
        "access_key": AK,
        "secret_key": SK,
        "sdk_date": SDK_DATE,
        "vectors": [vector(*case) for case in CASES],
    }
    text = json.dumps(out, indent=2, ensure_ascii=False) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
