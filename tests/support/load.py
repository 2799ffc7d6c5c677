"""Many concurrent clients against a live Relay Local: a mix of what users do, then a count.

Each client has its own HTTP session and, until the time is up, picks one of:
create an annotation, list datasets, list the dataset's audio, read the set, list
training and inference jobs, or upload a small WAV (upload-url, storage POST,
confirm). Every answer is recorded; afterwards the server must hold exactly the
annotations and files it acknowledged: none lost, none twice. Used by
``tests/server/test_load.py`` (a short run in CI) and ``benchmarks/server_load.py``.
"""

from __future__ import annotations

import io
import math
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import requests
import soundfile as sf

#: (operation, weight): mostly labelling and reading, some uploads
MIX = (("create_annotation", 40), ("list_datasets", 10), ("list_audio", 10),
       ("read_set", 10), ("list_jobs", 15), ("upload", 5))


def small_wav(seed: int, seconds: float = 0.1, rate: int = 16_000) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    sf.write(buf, (0.1 * rng.standard_normal(int(seconds * rate))).astype("float32"), rate,
             format="WAV", subtype="PCM_16")
    return buf.getvalue()


def p95(samples: list[float]) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class LoadReport:
    """What the clients saw, and what the server held afterwards."""

    clients: int
    seconds: float
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    acknowledged_annotations: list[str] = field(default_factory=list)
    acknowledged_uploads: list[str] = field(default_factory=list)
    stored_annotations: Counter[str] = field(default_factory=Counter)
    stored_uploads: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def all_latencies(self) -> list[float]:
        return [v for values in self.latencies_ms.values() for v in values]

    def lost(self) -> int:
        return (sum(1 for s in self.acknowledged_annotations if self.stored_annotations[s] == 0)
                + sum(1 for a in self.acknowledged_uploads if self.stored_uploads[a] == 0))

    def duplicated(self) -> int:
        return (sum(1 for n in self.stored_annotations.values() if n > 1)
                + sum(1 for n in self.stored_uploads.values() if n > 1))

    def p95_ms(self) -> dict[str, float]:
        out = {op: round(p95(v), 2) for op, v in sorted(self.latencies_ms.items())}
        out["all"] = round(p95(self.all_latencies()), 2)
        return out


class LoadRun:
    """Set up a dataset, an audio file and a draft set, then run ``clients`` for ``seconds``."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.api = base_url.rstrip("/") + "/api/v1"
        self.headers = {"X-API-Key": api_key}
        with requests.Session() as s:
            s.headers.update(self.headers)
            ds = s.post(f"{self.api}/datasets", timeout=30, json={
                "name": f"load-{random.getrandbits(32):08x}",
                "artifact_types": [{"name": "glitch"}]})
            assert ds.status_code == 201, ds.text
            self.dataset_id = ds.json()["id"]
            self.audio_id = self._upload(s, small_wav(0), "anchor.wav")
            aset = s.post(f"{self.api}/datasets/{self.dataset_id}/annotation-sets", timeout=30)
            assert aset.status_code == 201, aset.text
            self.set_id = aset.json()["id"]

    def _upload(self, s: requests.Session, data: bytes, name: str) -> str:
        ticket = s.post(f"{self.api}/datasets/{self.dataset_id}/audio/upload-url", timeout=30,
                        json={"filename": name, "content_type": "audio/wav",
                              "file_size": len(data)})
        assert ticket.status_code == 201, ticket.text
        t = ticket.json()
        stored = requests.post(t["upload_url"], data=t["fields"],
                               files={"file": (name, data, "audio/wav")}, timeout=30)
        assert stored.status_code == 204, stored.text
        confirmed = s.post(f"{self.api}/datasets/{self.dataset_id}/audio/confirm", timeout=30,
                           json={"audio_id": t["audio_id"]})
        assert confirmed.status_code == 200, confirmed.text
        return str(t["audio_id"])

    def run(self, clients: int, seconds: float) -> LoadReport:
        report = LoadReport(clients, seconds)
        lock = threading.Lock()
        deadline = time.monotonic() + seconds
        ops = [op for op, _ in MIX]
        weights = [w for _, w in MIX]
        set_url = f"{self.api}/datasets/{self.dataset_id}/annotation-sets/{self.set_id}"

        def one(s: requests.Session, rng: random.Random, n: int, i: int) -> None:
            op = rng.choices(ops, weights)[0]
            marker = f"{n}-{i}"   # each write is told apart by its marker
            start_ms = i % 90     # within the 100 ms anchor file
            t0 = time.perf_counter()
            acknowledged: object = None
            try:
                if op == "create_annotation":
                    r = s.post(f"{set_url}/annotations", timeout=60, json={
                        "audio_file_id": self.audio_id, "artifact_type": "glitch",
                        "start_ms": start_ms, "end_ms": start_ms + 1,
                        "extra_data": {"load": marker}})
                    if r.status_code == 201:
                        acknowledged = ("annotation", marker)
                elif op == "list_datasets":
                    r = s.get(f"{self.api}/datasets", timeout=60)
                elif op == "list_audio":
                    r = s.get(f"{self.api}/datasets/{self.dataset_id}/audio", timeout=60,
                              params={"page_size": 50})
                elif op == "read_set":
                    r = s.get(set_url, timeout=60)
                elif op == "list_jobs":
                    r = s.get(f"{self.api}/training-jobs", timeout=60)
                    if r.ok:
                        r = s.get(f"{self.api}/inference-jobs", timeout=60)
                else:
                    data = small_wav(n * 100_000 + i)
                    t = s.post(f"{self.api}/datasets/{self.dataset_id}/audio/upload-url",
                               timeout=60, json={"filename": f"c{n}-{i}.wav",
                                                 "content_type": "audio/wav",
                                                 "file_size": len(data)})
                    r = t
                    if t.status_code == 201:
                        ticket = t.json()
                        stored = requests.post(ticket["upload_url"], data=ticket["fields"],
                                               files={"file": ("x.wav", data, "audio/wav")},
                                               timeout=60)
                        r = stored
                        if stored.status_code == 204:
                            r = s.post(f"{self.api}/datasets/{self.dataset_id}/audio/confirm",
                                       timeout=60, json={"audio_id": ticket["audio_id"]})
                            if r.status_code == 200:
                                acknowledged = ("upload", str(ticket["audio_id"]))
            except requests.RequestException as exc:
                with lock:
                    report.errors.append(f"{op}: no answer ({exc})")
                return
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                report.statuses[r.status_code] += 1
                report.latencies_ms[op].append(elapsed)
                if r.status_code >= 300:
                    report.errors.append(f"{op}: {r.status_code} {r.text[:200]}")
                if isinstance(acknowledged, tuple):
                    kind, key = acknowledged
                    (report.acknowledged_annotations if kind == "annotation"
                     else report.acknowledged_uploads).append(key)

        def client(n: int) -> None:
            rng = random.Random(n)
            with requests.Session() as s:
                s.headers.update(self.headers)
                i = 0
                while time.monotonic() < deadline:
                    one(s, rng, n, i)
                    i += 1

        threads = [threading.Thread(target=client, args=(n,), daemon=True)
                   for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 120)
        self._count(report)
        return report

    def _count(self, report: LoadReport) -> None:
        with requests.Session() as s:
            s.headers.update(self.headers)
            detail = s.get(f"{self.api}/datasets/{self.dataset_id}/annotation-sets/"
                           f"{self.set_id}", timeout=120).json()
            report.stored_annotations.update((a.get("extra_data") or {}).get("load", "")
                                             for a in detail["annotations"])
            page = 1
            while True:
                got = s.get(f"{self.api}/datasets/{self.dataset_id}/audio", timeout=60,
                            params={"page": page, "page_size": 100}).json()
                report.stored_uploads.update(a["id"] for a in got["items"]
                                             if a["id"] != self.audio_id)
                if not got["has_more"]:
                    break
                page += 1
