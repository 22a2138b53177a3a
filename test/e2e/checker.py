"""The independent checker of the fault-injection suite (docs/reliability.md#fault-matrix).

It knows nothing of tmcd's own bookkeeping (SyncRecords, placement status): it works from what the
storm's clients were told and from what the real clusters hold.

- `Ledger` records every write the storm sent and its answer. An acknowledged write fixes the
  object's state; an unanswered one (the process was killed, the request timed out) adds a state the
  object *may* be in. Whenever the object is read again, the state seen must be one of those, else a
  write was lost (an acknowledged one is missing) or invented (a state no client ever asked for).
- `downstream_problems` derives what should run where from the upstream objects as tmcd serves them
  now (every storm Deployment not being deleted, with the ConfigMap it mounts, on every cluster the
  workspace registered: the storm's placements select every cluster) and compares it with what each
  cluster's apiserver lists with tmcd's mark: missing or stale copies, duplicates (one upstream
  object at two places on a cluster), orphans (a marked copy without an upstream object that should
  be there) and isolation breaches (a copy outside its workspace's own downstream namespace)."""
import hashlib
import json
import threading

import requests

UPSTREAM = "tmc.kcp.io/upstream"
MARK = "tmc.kcp.io/managed-by=tmcd"
ABSENT, DELETED = "absent", "deleted"  # never created; deletion acknowledged (gone, or terminating)


def hash_name(s, n):
    v = int.from_bytes(hashlib.sha256(s.encode()).digest(), "big")
    digits = ""
    while v:
        v, r = divmod(v, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
    return digits[:n]


def downstream_ns(ws, ns):
    """The documented namespace mapping (docs/sync.md): tmc-<base36 sha256 of workspace/namespace>."""
    return "tmc-" + hash_name(f"{ws}/{ns}", 12)


def observed_state(obj, value_of):
    """The ledger state of an object read back: None (404) reads as absent or deleted."""
    if obj is None:
        return None
    if obj["metadata"].get("deletionTimestamp"):
        return DELETED
    return value_of(obj)


class Ledger:
    """Per object (workspace, kind, name): the state fixed by the last acknowledged write, and the
    states unanswered writes since then may have left it in."""

    def __init__(self):
        self._mu = threading.Lock()
        self._known = {}
        self._maybe = {}
        self.violations = []
        self.counts = {"acknowledged": 0, "unanswered": 0, "refused": 0}

    def known(self, key):
        with self._mu:
            return self._known.get(key, ABSENT), set(self._maybe.get(key, ()))

    def acknowledged(self, key, state):
        with self._mu:
            self._known[key] = state
            self._maybe.pop(key, None)
            self.counts["acknowledged"] += 1

    def unanswered(self, key, state):
        with self._mu:
            self._maybe.setdefault(key, set()).add(state)
            self.counts["unanswered"] += 1

    def refused(self):
        with self._mu:
            self.counts["refused"] += 1

    def violation(self, text):
        with self._mu:
            self.violations.append(text)

    def resolve(self, key, seen):
        """Checks a state read back (None for 404) against the ledger and makes it the known state.
        Returns False (and records a violation) when no write can explain it."""
        known, maybe = self.known(key)
        allowed = {known} | maybe
        ok = seen in allowed or (seen is None and (allowed & {ABSENT, DELETED}))
        if not ok:
            what = "lost an acknowledged write" if not maybe else "matches no write sent"
            self.violation(f"{key}: read {seen!r}, {what} "
                           f"(acknowledged {known!r}, unanswered {sorted(map(str, maybe))})")
        with self._mu:
            gone = DELETED if DELETED in allowed else ABSENT
            self._known[key] = seen if seen is not None else gone
            self._maybe.pop(key, None)
        return ok

    def keys(self):
        with self._mu:
            return sorted(set(self._known) | set(self._maybe))


class Cluster:
    """A real cluster's apiserver, read with its admin token (not through tmcd)."""

    def __init__(self, name, server, token, ca_file):
        self.name, self.server = name, server
        self.session = requests.Session()
        self.session.trust_env = False  # else $REQUESTS_CA_BUNDLE would win over the cluster's CA
        self.session.verify = ca_file
        self.session.headers["Authorization"] = f"Bearer {token}"

    def marked(self, path):
        r = self.session.get(f"{self.server}{path}", params={"labelSelector": MARK}, timeout=20)
        r.raise_for_status()
        return r.json()["items"]


def storm_value(obj):
    """The storm's counter: a Deployment's spec.minReadySeconds, a ConfigMap's data.v (list items
    carry no kind)."""
    if "spec" in obj:
        return obj["spec"].get("minReadySeconds", 0)
    return int(obj.get("data", {}).get("v", "0"))


def _mounted_configmaps(deploy):
    return {v["configMap"]["name"] for v in deploy["spec"]["template"]["spec"].get("volumes", []) if "configMap" in v}


def expected_copies(get, workspaces, clusters, ns, selector):
    """{(cluster, downstream ns, kind, name): (upstream uid, value)} from tmcd's upstream objects,
    plus problems (objects still terminating, which the storm's deletions must not leave behind)."""
    want, problems = {}, []
    for ws in workspaces:
        deps = get(f"/clusters/{ws}/apis/apps/v1/namespaces/{ns}/deployments?labelSelector={selector}")["items"]
        cms = {c["metadata"]["name"]: c for c in get(f"/clusters/{ws}/api/v1/namespaces/{ns}/configmaps")["items"]}
        terminating = [d["metadata"]["name"] for d in deps if d["metadata"].get("deletionTimestamp")]
        if terminating:
            problems.append(f"{ws}: still terminating upstream: {terminating[:5]} ({len(terminating)})")
        dns = downstream_ns(ws, ns)
        for d in deps:
            if d["metadata"].get("deletionTimestamp"):
                continue
            for c in clusters:
                want[(c.name, dns, "Deployment", d["metadata"]["name"])] = (d["metadata"]["uid"], storm_value(d))
                for name in _mounted_configmaps(d):
                    if name in cms:
                        cm = cms[name]
                        want[(c.name, dns, "ConfigMap", name)] = (cm["metadata"]["uid"], storm_value(cm))
    return want, problems


def downstream_problems(get, workspaces, clusters, ns="shop", selector="app=storm"):
    """Everything that differs between what should run where and what the clusters hold (empty when
    converged). `get(path)` reads tmcd's API; copies of other workspaces (other tests) are ignored
    unless they sit in one of this run's downstream namespaces."""
    want, problems = expected_copies(get, workspaces, clusters, ns, selector)
    ours = {downstream_ns(ws, ns) for ws in workspaces}
    seen, where = {}, {}
    for c in clusters:
        for kind, path in (("Deployment", "/apis/apps/v1/deployments"), ("ConfigMap", "/api/v1/configmaps")):
            for item in c.marked(path):
                meta = item["metadata"]
                try:
                    up = json.loads(meta.get("annotations", {})[UPSTREAM])
                except (KeyError, ValueError):
                    problems.append(f"{c.name}: {kind} {meta['namespace']}/{meta['name']} is marked, names no upstream")
                    continue
                if up.get("workspace") not in workspaces and meta["namespace"] not in ours:
                    continue
                if meta["namespace"] != downstream_ns(up["workspace"], up["namespace"]):
                    problems.append(f"isolation: {c.name}: {kind} of {up['workspace']}/{up['namespace']}/{up['name']} "
                                    f"in namespace {meta['namespace']}")
                ident = (c.name, up["workspace"], up["namespace"], kind, up["name"])
                where.setdefault(ident, []).append(meta["namespace"])
                seen[(c.name, meta["namespace"], kind, meta["name"])] = (up.get("uid"), storm_value(item))
    problems += [f"duplicate: {i} at {w}" for i, w in where.items() if len(w) > 1]
    missing = sorted(k for k in want if k not in seen)
    orphans = sorted(k for k in seen if k not in want or seen[k][0] != want[k][0])
    stale = sorted(k for k in want if k in seen and seen[k][0] == want[k][0] and seen[k][1] != want[k][1])
    for label, keys in (("missing", missing), ("orphan", orphans), ("stale", stale)):
        if keys:
            problems.append(f"{label}: {len(keys)}, e.g. {keys[:3]}")
    return problems
