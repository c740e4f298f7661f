#!/usr/bin/env python3
"""How long a verifier-only instance accepts tokens of a revoked key, by hand (the same
measurement `compare`'s scale section records as `rotation.key_revocation`).

Starts a JWT issuer and one verifier (`--jwks-refresh-interval 2`) from target/debug/authbench,
then per round: logs alice in, checks the verifier accepts her token, revokes its kid on the
issuer (POST /admin/keys/revoke), and probes issuer and verifier every 20 ms until 401.

  scripts/key-revocation-window.py fresh 5     # clients log in again: a fresh-key token is
                                               # sent to the verifier (its unknown kid: a fetch)
  scripts/key-revocation-window.py passive 3   # no fresh-key token: the verifier's max-age
                                               # refresh (--jwks-max-age 10) drops the key
"""
import json, subprocess, sys, time, base64, urllib.request, re, statistics
import os
BIN = os.environ.get("AUTHBENCH", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "debug", "authbench"))
PW = "correct horse battery staple"
def start(args):
    p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://(\S+)", line)
    return p, "http://" + m.group(1)
def req(base, method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method)
    if token: r.add_header("Authorization", "Bearer " + token)
    if data is not None: r.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(r, timeout=5) as resp:
            b = resp.read(); return resp.status, (json.loads(b) if b else None)
    except urllib.error.HTTPError as e:
        return e.code, None
def login(base, user):
    s, b = req(base, "POST", "/login", body={"username": user, "password": PW}); assert s == 200, s
    return b["token"]
def kid(t):
    h = t.split(".")[0]; h += "=" * (-len(h) % 4)
    return json.loads(base64.urlsafe_b64decode(h))["kid"]
mode = sys.argv[1]  # fresh | passive
rounds = int(sys.argv[2])
issuer, ib = start(["--backend", "jwt", "--alg", "ES256"])
vargs = ["--backend", "jwt", "--alg", "ES256", "--jwks-url", ib + "/.well-known/jwks.json", "--jwks-refresh-interval", "2"]
if mode == "passive": vargs += ["--jwks-max-age", "10"]
verifier, vb = start(vargs)
res = []
try:
    for r in range(rounds):
        time.sleep(2.5)
        victim = login(ib, "alice")
        assert req(vb, "GET", "/me", victim)[0] == 200
        admin = login(ib, "admin")
        s, ans = req(ib, "POST", "/admin/keys/revoke", admin, {"kid": kid(victim)}); assert s == 200, s
        t0 = time.monotonic()
        si = req(ib, "GET", "/me", victim)[0]; ti = (time.monotonic() - t0) * 1e3
        fresh = None; accepted = 0; tv = None
        while time.monotonic() - t0 < 30:
            st = req(vb, "GET", "/me", victim)[0]
            if st == 401: tv = (time.monotonic() - t0) * 1e3; break
            accepted += 1
            if mode == "fresh":
                if fresh is None: fresh = login(ib, "bob")
                req(vb, "GET", "/me", fresh)
            time.sleep(0.02)
        res.append((si, ti, tv, accepted))
        print(f"round {r}: issuer {si} after {ti:.1f} ms; verifier refused after {tv} ms ({accepted} accepted probes)", flush=True)
finally:
    issuer.terminate(); verifier.terminate()
tvs = [x[2] for x in res if x[2] is not None]
print(mode, "verifier ms: min %.0f median %.0f max %.0f" % (min(tvs), statistics.median(tvs), max(tvs)))
