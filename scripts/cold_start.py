#!/usr/bin/env python3
# Usage: python3 scripts/cold_start.py target/debug/anaplan-functions [runs]
# No Anaplan and no storage is contacted: serve binds, answers GET /, and is stopped.
# Time from spawning `serve` to its first 200 on GET /, with and without storage settings.
import tempfile, os, subprocess, sys, time, urllib.request, socket, statistics
binary = sys.argv[1]; runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
base = {
    "PATH": os.environ["PATH"], "ANAPLAN_AUTH_METHOD": "oauth",
    "ANAPLAN_API_URL": "http://127.0.0.1:9", "ANAPLAN_OAUTH_URL": "http://127.0.0.1:9", "ANAPLAN_AUTH_URL": "http://127.0.0.1:9",
    "ANAPLAN_CLIENT_ID": "0123456789abcdef0123456789abcdef", "ANAPLAN_CLIENT_SECRET": "s", "ANAPLAN_REFRESH_TOKEN": "r",
    "ANAPLAN_TOKEN_FILE": os.path.join(tempfile.mkdtemp(), "refresh-token"), "RUST_LOG": "warn",
}
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def once(env):
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200: return time.perf_counter() - t0
            except Exception:
                if p.poll() is not None: raise SystemExit("serve exited")
                time.sleep(0.002)
    finally:
        p.terminate(); p.wait()
for name, extra in [("without storage", {}), ("with storage", {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}),
                    ("with storage + EXPORT_STORAGE_URL", {"AzureWebJobsStorage": "UseDevelopmentStorage=true", "EXPORT_STORAGE_URL": "UseDevelopmentStorage=true"}), ("with identity-based storage", {"AzureWebJobsStorage__accountName": "acct"})]:
    env = dict(base, **extra)
    times = sorted(once(env) for _ in range(runs))
    print(f"{name:36s} median {statistics.median(times)*1000:6.1f} ms  min {times[0]*1000:6.1f} ms  ({runs} runs)")
