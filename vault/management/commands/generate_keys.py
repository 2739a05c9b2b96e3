from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vault.keyring import KeyRing


class Command(BaseCommand):
    help = "Write a new key ring (keep it outside the database and out of backups of the database)."
    # Runs before a key ring exists, which the system checks would refuse.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="path of the new key ring file")
        parser.add_argument("--force", action="store_true", help="overwrite an existing file")

    def handle(self, *args, out, force, **options):
        path = Path(out)
        if path.exists() and not force:
            raise CommandError(f"{path} exists; refusing to overwrite keys (use --force)")
        KeyRing.generate().save(path)
        self.stdout.write(f"Wrote key ring {path} (mode 0600). Set TIPLINE_KEYS_FILE={path}.")
