"""How the benchmarks reach tmcd with security on: TLS (tmcd's own certificate, not verified — the
kube-apiserver peers are not verified either) and a bearer token of an administrator from a token file
written for the run, so both sides of every ratio pay for TLS and authentication alike."""
import os
import secrets

import requests


def token_args(work):
    """tmcd flags for a token file in `work`; returns (flags, token)."""
    token = secrets.token_hex(24)
    path = work / "bench-tokens.csv"
    path.write_text(f'{token},bench-admin,1,"system:masters"\n')
    os.chmod(path, 0o600)
    return ["--token-auth-file", str(path)], token


def session(token):
    s = requests.Session()
    s.verify = False
    s.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def headers(token):
    return {"Authorization": f"Bearer {token}"}
