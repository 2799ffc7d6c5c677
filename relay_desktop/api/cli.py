"""``python -m relay_desktop.api``: a small command line on top of the client.

The server comes from ``--base-url`` or ``RELAY_BASE_URL``; the API key only
from ``RELAY_API_KEY`` (never an argument, which would show in ``ps``).
Expected failures print one ``error: ...`` line and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from relay_desktop import formats
from relay_desktop.api.batch_upload.engine import MAX_LANES, UploadEngine
from relay_desktop.api.batch_upload.rows import UploadState, UploadTarget
from relay_desktop.api.batch_upload.store import QueueStore, upload_state_path
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.cli_progress import UploadReport
from relay_desktop.api.client import RelayClient
from relay_desktop.api.errors import Cancelled, NotFound, RelayError
from relay_desktop.api.uploads import AUDIO_EXTENSIONS

POLL_SCHEDULE = (1.0, 2.0, 5.0, 10.0)
UNFINISHED = frozenset({UploadState.SCANNING, UploadState.WAITING, UploadState.UPLOADING,
                        UploadState.CONFIRMING, UploadState.PAUSED})
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A mistake on the command line or in the environment (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m relay_desktop.api",
        description="Relay API from the command line. The API key is read from RELAY_API_KEY.")
    parser.add_argument("--base-url", default=None,
                        help="server URL (default: $RELAY_BASE_URL)")
    parser.add_argument("--timeout", type=float, default=30.0, help="read timeout in seconds")
    sub = parser.add_subparsers(dest="command", required=True)

    ds = sub.add_parser("datasets", help="list or create datasets")
    ds_sub = ds.add_subparsers(dest="action", required=True)
    ds_sub.add_parser("list", help="list every dataset")
    create = ds_sub.add_parser("create", help="create a dataset")
    create.add_argument("name")
    create.add_argument("--types", required=True,
                        help="comma-separated artifact types, e.g. glitch,long_pause")
    create.add_argument("--description", default=None)

    up = sub.add_parser(
        "upload", help="upload audio files or folders into a dataset",
        description="Files are checked locally first (format, size, corrupt or empty files) "
                    "and uploaded on parallel lanes. The queue is kept on disk: after an "
                    "interruption, --resume finishes it without creating any file twice.")
    up.add_argument("dataset_id")
    up.add_argument("paths", nargs="*", type=Path)
    up.add_argument("--lanes", type=int, default=3, choices=range(1, MAX_LANES + 1),
                    metavar="N", help="parallel uploads (1-8, default 3)")
    up.add_argument("--duplicates", choices=("skip", "upload"), default="skip",
                    help="files whose content is already in the dataset, or twice in this "
                         "run (default: skip)")
    up.add_argument("--resume", action="store_true",
                    help="also finish what an interrupted earlier upload to this dataset "
                         "left unfinished")

    sets = sub.add_parser("sets", help="annotation sets")
    sets_sub = sets.add_subparsers(dest="action", required=True)
    export = sets_sub.add_parser("export", help="export an annotation set's regions")
    export.add_argument("dataset_id")
    export.add_argument("set_id")
    export.add_argument("--format", choices=formats.FORMATS, default="json")
    export.add_argument("--audio", default=None,
                        help="only this audio file (needed for audacity/textgrid when the "
                             "set spans several files)")
    export.add_argument("-o", "--output", type=Path, default=None,
                        help="write here instead of stdout")

    jobs = sub.add_parser("jobs", help="training and inference jobs")
    jobs_sub = jobs.add_subparsers(dest="action", required=True)
    watch = jobs_sub.add_parser("watch", help="poll a job until it finishes")
    watch.add_argument("job_id")
    watch.add_argument("--interval", type=float, default=1.0,
                       help="first poll interval in seconds (backs off x2, x5, x10)")
    return parser


def make_client(args: argparse.Namespace) -> RelayClient:
    base_url = args.base_url or os.environ.get("RELAY_BASE_URL")
    if not base_url:
        raise UsageError("no server given: pass --base-url or set RELAY_BASE_URL")
    key = os.environ.get("RELAY_API_KEY")
    if not key:
        raise UsageError("no API key: set RELAY_API_KEY")
    try:
        return RelayClient(base_url, key, timeout=(5.0, args.timeout))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- commands ---------------------------------------------------------------------


def cmd_datasets_list(client: RelayClient, out: TextIO) -> int:
    rows = list(client.datasets.iter_items())
    for d in rows:
        count = "" if d.audio_count is None else f"{d.audio_count} files"
        out.write(f"{d.id}\t{d.name}\t{','.join(d.type_names)}\t{count}\n")
    if not rows:
        sys.stderr.write("no datasets\n")
    return EXIT_OK


def cmd_datasets_create(client: RelayClient, args: argparse.Namespace, out: TextIO) -> int:
    types = [t.strip() for t in args.types.split(",") if t.strip()]
    if not types:
        raise UsageError("--types needs at least one artifact type name")
    ds = client.datasets.create(args.name, types, description=args.description)
    out.write(f"{ds.id}\n")
    sys.stderr.write(f"created dataset {ds.name!r} with types {', '.join(ds.type_names)}\n")
    return EXIT_OK


def collect_audio(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """Audio files named or found (recursively) under folders; plus problems found."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                problems.append(f"{path}: no audio files in this folder")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() in AUDIO_EXTENSIONS:
                files.append(path)
            else:
                problems.append(f"{path}: not an audio file "
                                f"({', '.join(sorted(AUDIO_EXTENSIONS))})")
        else:
            problems.append(f"{path}: no such file or folder")
    unique: dict[Path, None] = dict.fromkeys(p.resolve() for p in files)
    return list(unique), problems


def cmd_upload(client: RelayClient, args: argparse.Namespace, out: TextIO,
               cancel: CancelToken) -> int:
    files, problems = collect_audio(args.paths)
    for problem in problems:
        sys.stderr.write(f"skipped: {problem}\n")
    store = QueueStore(upload_state_path(client.base_url))
    unfinished = [r for r, _ in store.load()
                  if r.target.id == args.dataset_id and r.state in UNFINISHED]
    if unfinished and not args.resume:
        sys.stderr.write(f"note: {len(unfinished)} file(s) from an interrupted upload to this "
                         "dataset are not finished; add --resume to finish them\n")
    if not files and not (args.resume and unfinished):
        store.close()
        raise UsageError("nothing to upload")
    try:
        client.datasets.get(args.dataset_id)  # fail early on a wrong id or key
    except BaseException:
        store.close()
        raise
    target = UploadTarget("dataset", args.dataset_id)
    engine = UploadEngine(lambda: make_client(args), store, lanes=args.lanes,
                          duplicates=args.duplicates)
    report = UploadReport(out)
    try:
        if args.resume:
            engine.restore(lambda r: r.target.id == args.dataset_id and r.state in UNFINISHED)
        engine.add_files(files, target)
        while not engine.wait_scanned(0.1):  # checked first, then sent in drop order
            report.update(engine.take_changes(), engine.totals())
            if cancel.cancelled:
                raise Cancelled()
        engine.start()
        while not engine.is_idle():
            report.update(engine.take_changes(), engine.totals())
            if cancel.wait(0.1):
                raise Cancelled()
        report.update(engine.take_changes(), engine.totals())
    finally:
        engine.close(5.0)   # interrupted files stay in the queue for --resume
        report.close()
    finished = [r.id for r in engine.rows() if r.state not in UNFINISHED]
    if finished:
        done_store = QueueStore(store.path)
        done_store.delete(finished)
        done_store.close()
    return report.summary(len(problems))


def cmd_sets_export(client: RelayClient, args: argparse.Namespace, out: TextIO) -> int:
    dataset = client.datasets.get(args.dataset_id)
    detail = client.annotation_sets.get(args.dataset_id, args.set_id)
    audio = {a.id: a for a in client.audio.iter_items(args.dataset_id)}
    annotations = [a for a in detail.annotations
                   if args.audio is None or a.audio_file_id == args.audio]
    regions = [formats.Region(audio_file_id=a.audio_file_id, artifact_type=a.artifact_type,
                              start_ms=a.start_ms, end_ms=a.end_ms, confidence=a.confidence,
                              filename=audio[a.audio_file_id].filename
                              if a.audio_file_id in audio else None)
               for a in annotations]
    duration = None
    if args.audio is not None and args.audio in audio:
        duration = audio[args.audio].duration_ms
    try:
        text = formats.export_regions(regions, args.format, duration_ms=duration,
                                      artifact_types=list(dataset.type_names))
    except formats.FormatError as exc:
        raise UsageError(f"{exc} (use --audio AUDIO_ID)") from None
    if args.output is None:
        out.write(text)
    else:
        tmp = args.output.with_name(args.output.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.output)
        sys.stderr.write(f"wrote {len(regions)} region(s) to {args.output}\n")
    return EXIT_OK


def poll_intervals(first: float) -> Iterator[float]:
    scale = first / POLL_SCHEDULE[0]
    for step in POLL_SCHEDULE:
        yield step * scale
    while True:
        yield POLL_SCHEDULE[-1] * scale


def cmd_jobs_watch(client: RelayClient, args: argparse.Namespace, out: TextIO,
                   cancel: CancelToken) -> int:
    kind = "training"
    try:
        job: object = client.training_jobs.get(args.job_id, cancel=cancel)
    except NotFound:
        kind = "inference"
        try:
            job = client.inference_jobs.get(args.job_id, cancel=cancel)
        except NotFound:
            raise UsageError(f"no training or inference job {args.job_id} on this server "
                             "(or it belongs to another API key)") from None
    intervals = poll_intervals(args.interval)
    last = ""
    while True:
        status = str(getattr(job, "status", ""))
        line = status
        if kind == "inference":
            line += (f" ({getattr(job, 'processed_files', 0)}/{getattr(job, 'total_files', 0)}"
                     f" files, {getattr(job, 'total_detections', 0)} detections)")
        if line != last:
            out.write(f"{time.strftime('%H:%M:%S')} {kind} job {args.job_id}: {line}\n")
            out.flush()
            last = line
        if getattr(job, "is_terminal", False):
            error = getattr(job, "error_message", None)
            if error:
                out.write(f"error: {error}\n")
            model = getattr(job, "model_id", None)
            if model and status == "completed":
                out.write(f"model: {model}\n")
            return EXIT_OK if status == "completed" else EXIT_FAILED
        if cancel.wait(next(intervals)):
            raise Cancelled()
        if kind == "training":
            job = client.training_jobs.get(args.job_id, cancel=cancel)
        else:
            job = client.inference_jobs.get(args.job_id, cancel=cancel)


def run(args: argparse.Namespace, out: TextIO, cancel: CancelToken) -> int:
    with make_client(args) as client:
        if args.command == "datasets":
            if args.action == "list":
                return cmd_datasets_list(client, out)
            return cmd_datasets_create(client, args, out)
        if args.command == "upload":
            return cmd_upload(client, args, out, cancel)
        if args.command == "sets":
            return cmd_sets_export(client, args, out)
        return cmd_jobs_watch(client, args, out, cancel)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cancel = CancelToken()
    try:
        return run(args, sys.stdout, cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except Cancelled:
        sys.stderr.write("cancelled\n")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except RelayError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        sys.stderr.write(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '')}\n")
        return EXIT_FAILED
