"""The anchor of `benches/transfers.rs`: the Python anaplan-sdk (0.5.22) moving the same file
against the same emulator, timed, with its own peak memory.

    python anaplan_sdk_transfer.py BASE_URL USERNAME PASSWORD export EXPORT_ID
    python anaplan_sdk_transfer.py BASE_URL USERNAME PASSWORD import FILE_ID IMPORT_ID PATH

`export` runs the export and downloads its file with `export_and_download` (the SDK fetches
the chunks in parallel, one thread and connection per CPU, and joins them in memory).
`import` reads PATH into memory, as `upload_and_import` needs, and uploads it in the SDK's
25 MB chunks, then runs the import. Prints one JSON line: seconds (the whole call, task
included, as the handler's figure), transfer seconds (download or upload only), bytes,
sha256 of what went through, peak RSS (`VmHWM`) and, for imports, the SDK's gzip ratio.

Pointed at the emulator as `tests/sdk/anaplan_sdk_check.py` explains (a transport that sends
*.anaplan.com to the emulator). The SDK runs with its own defaults otherwise: it gzips every
upload chunk (`Content-Type: application/x-gzip`, which the emulator unpacks as Anaplan
does) and uploads chunks in parallel when it knows their count (the emulator takes them in
any order then). The transport counts the packed bytes it sends, for the printed ratio.
"""

import hashlib
import json
import sys
import time
from urllib.parse import urlsplit

import anaplan_sdk
import httpx2

WS_FPA_ID = "8a81b09d599f3c6e0159f605560c2630"
MODEL_REVENUE_ID = "75A40874E6B64FA3AE0743278996850F"


class ToEmulator(httpx2.HTTPTransport):
    """Sends requests for any Anaplan host to the emulator, counting gzip bytes sent."""

    def __init__(self, base: str):
        super().__init__()
        parts = urlsplit(base)
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.gzipped = 0

    def handle_request(self, request):
        host = request.url.host
        if host == "anaplan.com" or host.endswith(".anaplan.com"):
            request.url = request.url.copy_with(scheme=self.scheme, host=self.host, port=self.port)
            request.headers["Host"] = f"{self.host}:{self.port}"
        if request.headers.get("content-type", "").lower() in ("application/x-gzip", "application/gzip"):
            self.gzipped += len(request.read())
        response = super().handle_request(request)
        if response.status_code >= 400:
            print(f"{request.method} {request.url.path} -> {response.status_code}", file=sys.stderr)
        return response


def peak_rss_bytes() -> int:
    """This process's peak RSS (`VmHWM`). Not `ru_maxrss`: Linux carries that over fork and
    exec, so it would report the bench process's size when it forked this one."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    base, username, password, mode = sys.argv[1:5]
    login = httpx2.post(f"{base}/token/authenticate", auth=(username, password))
    login.raise_for_status()
    transport = ToEmulator(base)
    client = anaplan_sdk.Client(
        token=login.json()["tokenInfo"]["tokenValue"],
        user_email=username,
        password=password,
        workspace_id=WS_FPA_ID,
        model_id=MODEL_REVENUE_ID,
        transport=transport,
        retry_count=0,
        timeout=600,
    )
    out = {"mode": mode}
    if mode == "export":
        export_id = int(sys.argv[5])
        started = time.perf_counter()
        client.run_action(export_id)
        fetched = time.perf_counter()
        content = client.get_file(export_id)
        done = time.perf_counter()
        out.update(seconds=done - started, transfer_seconds=done - fetched)
    elif mode == "import":
        file_id, import_id, path = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
        with open(path, "rb") as f:
            content = f.read()
        started = time.perf_counter()
        client.upload_file(file_id, content)
        uploaded = time.perf_counter()
        client.run_action(import_id)
        done = time.perf_counter()
        out.update(seconds=done - started, transfer_seconds=uploaded - started)
        out["gzip_ratio"] = len(content) / transport.gzipped if transport.gzipped else None
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    out.update(bytes=len(content), sha256=hashlib.sha256(content).hexdigest(), peak_rss=peak_rss_bytes())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
