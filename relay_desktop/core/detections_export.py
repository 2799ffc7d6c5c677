"""An inference job's detections as regions of the formats package, and writing them (Qt-free).

    regions = detection_regions(job)                      # every completed file's detections
    result = export_detections(job, "raven", folder, per_file=True)
    result.paths                                          # the files written

Each detection becomes a :class:`relay_desktop.formats.Region` with the file's
``original_filename`` and, as ``audio_file_id``, the dataset audio it was taken
from (``source_audio_id``, so an export of dataset files imports back into that
dataset's sets) or else the inference file's id. JSON, CSV and Raven hold many
audio files in one file; an Audacity label track holds one, so Audacity (and
Raven when asked) is written one file per audio into a folder, named after the
audio (``take1.txt``, ``take1.selections.txt``). Only completed files are
exported; a completed file without detections still gets its (empty) file in
per-file exports, so "nothing found" is on disk too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from relay_desktop import formats
from relay_desktop.api.models import InferenceFile, InferenceJob

EXPORT_FORMATS: tuple[str, ...] = ("json", "csv", "audacity", "raven")
#: formats one file of which can hold the detections of many audio files
COMBINED_FORMATS = frozenset({"json", "csv", "raven"})


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the files, how many detections, over how many audio files."""

    paths: tuple[Path, ...]
    detections: int
    audio_files: int

    def summary(self, fmt: str) -> str:
        """'Exported 12 detections of 3 audio files as Raven selection table to …'."""
        where = (str(self.paths[0]) if len(self.paths) == 1
                 else f"{len(self.paths)} files in {self.paths[0].parent}" if self.paths
                 else "no file")
        dets = "1 detection" if self.detections == 1 else f"{self.detections:,} detections"
        files = "1 audio file" if self.audio_files == 1 else f"{self.audio_files:,} audio files"
        return f"Exported {dets} of {files} as {formats.LABELS[fmt]} to {where}."


def must_split(fmt: str) -> bool:
    """True when ``fmt`` holds one audio file per file (one export file per audio)."""
    _check_format(fmt)
    return fmt not in COMBINED_FORMATS


def completed_files(job: InferenceJob) -> list[InferenceFile]:
    """The job's files that finished with results, in the job's order."""
    return [f for f in job.files if f.status == "completed"]


def file_regions(file: InferenceFile) -> list[formats.Region]:
    """One inference file's detections as format regions."""
    audio_id = file.source_audio_id or file.id
    return [formats.Region(audio_file_id=audio_id, artifact_type=d.artifact_type,
                           start_ms=d.start_ms, end_ms=d.end_ms,
                           confidence=float(d.confidence), filename=file.original_filename)
            for d in file.detections or ()]


def detection_regions(job: InferenceJob,
                      file_ids: Iterable[str] | None = None) -> list[formats.Region]:
    """Every completed file's detections (or only ``file_ids``'), as format regions."""
    wanted = None if file_ids is None else set(file_ids)
    return [region for file in completed_files(job)
            if wanted is None or file.id in wanted for region in file_regions(file)]


def per_file_names(files: Sequence[InferenceFile], fmt: str) -> dict[str, str]:
    """A distinct export file name per inference file id: the audio's stem + the
    format's extension (``take1.selections.txt``), ``take1-2…`` for a repeated name."""
    ext = formats.EXTENSIONS[fmt]
    names: dict[str, str] = {}
    used: set[str] = set()
    for file in files:
        stem = PurePath(file.original_filename or file.id).stem or file.id
        stem = "".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in stem)
        candidate, n = stem + ext, 1
        while candidate.lower() in used:
            n += 1
            candidate = f"{stem}-{n}{ext}"
        used.add(candidate.lower())
        names[file.id] = candidate
    return names


def render(job: InferenceJob, fmt: str, *, per_file: bool = False,
           file_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The export's text by relative file name (one entry, ``""``, when combined).

    Raises ``formats.FormatError`` when the detections cannot be written in ``fmt``.
    """
    _check_format(fmt)
    wanted = None if file_ids is None else set(file_ids)
    files = [f for f in completed_files(job) if wanted is None or f.id in wanted]
    if not (per_file or must_split(fmt)):
        regions = [r for f in files for r in file_regions(f)]
        return {"": formats.export_regions(regions, fmt)}
    names = per_file_names(files, fmt)
    return {names[f.id]: formats.export_regions(file_regions(f), fmt) for f in files}


def export_detections(job: InferenceJob, fmt: str, dest: str | Path, *,
                      per_file: bool = False,
                      file_ids: Iterable[str] | None = None) -> ExportResult:
    """Write the job's detections in ``fmt``: to the file ``dest`` when combined, else
    one file per audio into the folder ``dest`` (created if missing)."""
    wanted = None if file_ids is None else list(file_ids)
    texts = render(job, fmt, per_file=per_file, file_ids=wanted)
    dest = Path(dest)
    paths: list[Path] = []
    if "" in texts:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(texts[""], encoding="utf-8")
        paths.append(dest)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            path = dest / name
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    regions = detection_regions(job, wanted)
    audio = {f.id for f in completed_files(job) if wanted is None or f.id in wanted}
    return ExportResult(paths=tuple(paths), detections=len(regions), audio_files=len(audio))


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"cannot export detections as {fmt!r}; choose one of "
                         f"{', '.join(EXPORT_FORMATS)}")
