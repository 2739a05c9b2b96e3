from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from vault import keyring
from vault.models import sealed_models


class Command(BaseCommand):
    help = (
        "Add a new key-encryption key to the key ring and re-wrap the data key of every sealed "
        "row of every sealed model under it. Old versions stay in the ring so older backups "
        "remain readable."
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
        for model in sealed_models():
            count = 0
            stale = model.objects.exclude(
                kek_version__in=(ring.current_kek, model.SHREDDED)
            ).values_list("pk", flat=True)
            for pk in stale.iterator():
                # One row per transaction: a long rotation never holds many locks, and an
                # interrupted one is finished by running it again (--rewrap-only).
                with transaction.atomic():
                    row = model.objects.select_for_update().get(pk=pk)
                    if row.rewrap(ring):
                        row.save(update_fields=["wrapped_key", "kek_version"])
                        count += 1
            self.stdout.write(f"  {model._meta.label}: {count}")
            total += count
        self.stdout.write(f"Re-wrapped {total} data keys under version {ring.current_kek}.")
