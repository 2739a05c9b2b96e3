import tarfile
import time
from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError

from vault import storage


class Command(BaseCommand):
    help = (
        "Copy every encrypted file of the configured storage (local directory or S3 bucket) into "
        "a .tar.gz (--out), or back from one into an empty storage (--restore). The files stay "
        "encrypted: this never decrypts anything and needs no key ring. deploy/backup.sh and "
        "restore.sh use it with TIPLINE_FILE_STORAGE=s3."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--out", type=Path, help="write the files into this .tar.gz")
        mode.add_argument("--restore", type=Path, help="put the files of this .tar.gz back")
        mode.add_argument(
            "--check-empty",
            action="store_true",
            help="fail unless the storage holds no file (restore.sh asks before it restores)",
        )

    def handle(self, *args, out, restore, check_empty, **options):
        if check_empty:
            self._refuse_unless_empty()
            self.stdout.write("the file storage is empty")
        elif out:
            count = self._export(out)
            self.stdout.write(f"{count} encrypted files written to {out}")
        else:
            count = self._restore(restore)
            self.stdout.write(f"{count} encrypted files restored from {restore}")

    def _export(self, out: Path) -> int:
        names = storage.names()
        out.parent.mkdir(parents=True, exist_ok=True)
        # Streamed from the storage into the archive one file at a time, never staged on disk.
        with tarfile.open(out, "w:gz") as archive:
            for name in names:
                blob = storage.read_sealed(name)
                info = tarfile.TarInfo(f"./{name}")
                info.size, info.mode, info.mtime = len(blob), 0o600, int(time.time())
                archive.addfile(info, BytesIO(blob))
        return len(names)

    def _refuse_unless_empty(self) -> None:
        present = storage.names()
        if present:
            raise CommandError(
                f"refusing to restore: the file storage already holds {len(present)} files "
                "(restore into an empty directory or bucket)"
            )

    def _restore(self, source: Path) -> int:
        self._refuse_unless_empty()
        count = 0
        with tarfile.open(source, "r:gz") as archive:
            for member in archive:
                name = Path(member.name).name
                if not member.isfile() or not name.endswith(storage.SUFFIX):
                    continue
                blob = archive.extractfile(member).read()
                storage.files().save(name, ContentFile(blob, name=name))
                count += 1
        return count
