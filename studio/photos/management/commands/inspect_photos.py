import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studio.avatars.models import SubjectClass
from studio.photos import intake, quality
from studio.photos.quality import REFUSE, WARN


class Command(BaseCommand):
    help = (
        "Run photos through exactly the checks and normalisation an upload gets, and print one "
        "JSON object per file: the verdict, the reasons for a refusal, the warnings and the final "
        "size. With --out, write the normalised JPEGs there. Answers \"why was my photo refused?\""
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--class",
            dest="subject_class",
            default=SubjectClass.PERSON,
            choices=SubjectClass.values,
            help="The avatar's subject class; faces are checked for people, not pets (default: person).",
        )
        parser.add_argument("--out", type=Path, help="Folder for the normalised JPEGs.")

    def handle(self, *args, files, subject_class, out, **options):
        if out:
            out.mkdir(parents=True, exist_ok=True)
        limits = intake.PhotoLimits.from_settings()
        expected_faces = intake.expected_faces_for(subject_class)
        reports, hashes, unreadable = [], [], 0
        for index, name in enumerate(files):
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as error:
                unreadable += 1
                reports.append(({"file": name, "error": error.strerror or str(error)}, None))
                continue
            result = intake.process(data, expected_faces=expected_faces, limits=limits)
            report = _report(path, data, result)
            if result.verdict != intake.REJECTED and result.dhash is not None:
                hashes.append((index, result.dhash))
            if out and result.jpeg is not None:
                target = out / f"{path.stem}.jpg"
                target.write_bytes(result.jpeg)
                report["output"] = str(target)
            reports.append((report, result))

        # Near-duplicates are judged within the set, as they are within an avatar's photos.
        duplicates = quality.find_near_duplicates(hashes, max_distance=limits.coach.duplicate_max_distance)
        for index, (report, result) in enumerate(reports):
            if result is not None and index in duplicates:
                finding = quality.near_duplicate_finding()
                result.findings.append(finding)
                report["warnings"].append({"code": finding.code, "message": finding.message})
                report["duplicate_of"] = files[duplicates[index]]
                report["verdict"] = intake.verdict_for(result.findings)
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read.")


def _report(path: Path, data: bytes, result: intake.IntakeResult) -> dict:
    def entries(level: str) -> list[dict]:
        return [{"code": f.code, "message": f.message} for f in result.findings if f.level == level]

    return {
        "file": str(path),
        "verdict": result.verdict,
        "reasons": entries(REFUSE),
        "warnings": entries(WARN),
        "source": {
            "bytes": len(data),
            "format": result.source_format,
            "width": result.source_size[0] if result.source_size else None,
            "height": result.source_size[1] if result.source_size else None,
        },
        "final": {"bytes": len(result.jpeg), "width": result.width, "height": result.height}
        if result.jpeg is not None
        else None,
        "measurements": result.measurements.as_dict() if result.measurements else None,
    }
