from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from tipline import keyring
from tipline.models import Attachment, ReporterIdentity


class Command(BaseCommand):
    help = (
        "Add a new key-encryption key to the key ring and re-wrap every data key under it. "
        "Old versions stay in the ring so older backups remain readable."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rewrap-only",
            action="store_true",
            help="do not add a key; re-wrap under the current one",
        )

    def handle(self, *args, rewrap_only, **options):
        path = settings.TIPLINE_KEYS_FILE
        ring = keyring.load(path)
        if not rewrap_only:
            version = ring.add_kek()
            ring.save(path)
            keyring.reset_cache()
            self.stdout.write(f"Added key-encryption key version {version} to {path}.")
        total = 0
        for model in (ReporterIdentity, Attachment):
            stale = model.objects.exclude(kek_version=ring.current_kek).values_list("pk", flat=True)
            for pk in stale.iterator():
                with transaction.atomic():
                    row = model.objects.select_for_update().get(pk=pk)
                    if row.rewrap(ring):
                        row.save(update_fields=["wrapped_key", "kek_version"])
                        total += 1
        self.stdout.write(f"Re-wrapped {total} data keys under version {ring.current_kek}.")
