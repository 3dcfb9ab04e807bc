import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studio.avatars.models import SubjectClass
from studio.photos import intake, judgement
from studio.photos.quality import REFUSE, WARN


class Command(BaseCommand):
    help = (
        "Run photos through exactly the checks and normalisation an upload gets, judge them as one "
        "avatar's set (another person's face, the same shot twice, near-duplicates for pets), and "
        "print one JSON object per file: the verdict, the reasons for a refusal, the warnings, the "
        "faces found, the distance to the set's identity, the same-shot pairs and the final size; "
        "the set's variety goes to standard error. With --out, write the normalised JPEGs there. "
        "Answers \"why was my photo refused?\""
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
        reports, members, unreadable = [], [], 0
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
            if result.verdict != intake.REJECTED:
                members.append(judgement.Member(key=index, name=path.name, analysis=result.analysis,
                                                dhash=result.dhash))
            if out and result.jpeg is not None:
                target = out / f"{path.stem}.jpg"
                target.write_bytes(result.jpeg)
                report["output"] = str(target)
            reports.append((report, result))

        # Judged as one set, as an avatar's photos are.
        verdicts = judgement.judge(
            members, subject=judgement.subject_for(subject_class), limits=judgement.SetLimits.from_settings()
        )
        for index, (report, result) in enumerate(reports):
            if result is not None and result.verdict != intake.REJECTED:
                findings = result.findings + verdicts.findings[index]
                report["verdict"] = intake.verdict_for(findings)
                report["reasons"] = _entries(findings, REFUSE)
                report["warnings"] = _entries(findings, WARN)
                report["counted"] = index in verdicts.counted
                if index in verdicts.distances:
                    report["distance"] = round(verdicts.distances[index], 3)
                if index in verdicts.repeats:
                    key = "duplicate_of" if expected_faces is None else "same_shot_as"
                    report[key] = files[verdicts.repeats[index]]
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        if verdicts.variety is not None:  # about the set, not a file: beside the JSON lines
            variety = verdicts.variety
            axes = ("pose", "look", "background", "light")
            scores = ", ".join(f"{axis} {getattr(variety, axis):.2f}" for axis in axes)
            self.stderr.write(f"Variety of the set: {variety.level} ({scores}). " + " ".join(variety.advice))
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read.")


def _entries(findings: list, level: str) -> list[dict]:
    return [{"code": f.code, "message": f.message} for f in findings if f.level == level]


def _report(path: Path, data: bytes, result: intake.IntakeResult) -> dict:
    return {
        "file": str(path),
        "verdict": result.verdict,
        "reasons": _entries(result.findings, REFUSE),
        "warnings": _entries(result.findings, WARN),
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
