"""The Python anaplan-sdk against the emulator: lists workspaces and models, runs an export
and downloads its file, and runs a process.

The SDK has its Anaplan hosts written into it (api.anaplan.com, auth.anaplan.com, ...) and
no setting for another base URL. It does pass extra keyword arguments on to its HTTP client
(httpx2.Client), so a transport that sends every *.anaplan.com request to the emulator
points it there without patching the SDK. Only its very first login uses a client of its
own (without that transport), so the first token is fetched here from the emulator's
legacy token service and handed over with the SDK's documented `token` parameter; the
username and password go with it, and the SDK's later logins (after a 401) travel through
the transport.

Usage: python anaplan_sdk_check.py http://127.0.0.1:PORT credentials.json
Prints one line per check; exit code 0 only when all passed.
"""

import json
import sys
from urllib.parse import urlsplit

import anaplan_sdk
import httpx2

WS_FPA_ID = "8a81b09d599f3c6e0159f605560c2630"
MODEL_REVENUE_ID = "75A40874E6B64FA3AE0743278996850F"
EXPORT_PRICE_ID = 116000000001
PROCESS_NIGHTLY_ID = 118000000001


class ToEmulator(httpx2.HTTPTransport):
    """Sends requests for any Anaplan host to the emulator, path and query unchanged."""

    def __init__(self, base: str):
        super().__init__()
        parts = urlsplit(base)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port

    def handle_request(self, request):
        host = request.url.host
        if host == "anaplan.com" or host.endswith(".anaplan.com"):
            request.url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port)
            request.headers["Host"] = f"{self.host}:{self.port}"
        response = super().handle_request(request)
        if response.status_code >= 400:
            # What the emulator refused, to see why a check failed.
            print(f"     {request.method} {request.url.path}?{request.url.query.decode()} -> {response.status_code}")
        return response


def main() -> int:
    base, credentials_path = sys.argv[1], sys.argv[2]
    with open(credentials_path) as f:
        creds = json.load(f)
    login = httpx2.post(f"{base}/token/authenticate", auth=(creds["username"], creds["password"]))
    login.raise_for_status()
    token = login.json()["tokenInfo"]["tokenValue"]
    client = anaplan_sdk.Client(
        token=token,
        user_email=creds["username"],
        password=creds["password"],
        workspace_id=WS_FPA_ID,
        model_id=MODEL_REVENUE_ID,
        transport=ToEmulator(base),
        retry_count=0,
    )
    ok = True

    def check(name: str, passed: bool, detail: str) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")

    workspaces = client.get_workspaces()
    names = sorted(w.name for w in workspaces)
    check("workspaces", "FP&A Planning" in names, ", ".join(names))
    models = client.get_models()
    names = sorted(m.name for m in models)
    check("models", "Revenue Plan" in names, ", ".join(names))
    exports = client.get_exports()
    check("exports", any(e.id == EXPORT_PRICE_ID for e in exports), ", ".join(e.name for e in exports))
    content = client.export_and_download(EXPORT_PRICE_ID)
    first = content.decode().splitlines()[:2]
    check("export", first == ["Product,Region,Month,Price", "Widget,North,Jan 26,64.6"], repr(first))
    status = client.run_action(PROCESS_NIGHTLY_ID)
    check("process", status.task_state == "COMPLETE" and status.result.successful, status.task_state)
    # Expire every token: the SDK's own re-login (basic auth) goes through the transport too.
    httpx2.post(f"{base}/_emulator/expire-tokens").raise_for_status()
    names = sorted(w.name for w in client.get_workspaces())
    check("re-login after expiry", "FP&A Planning" in names, ", ".join(names))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
