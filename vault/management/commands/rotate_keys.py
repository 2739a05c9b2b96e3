from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vault import keyring
from vault.models import sealed_models


class Command(BaseCommand):
    help = (
        "Add a new key-encryption key to the key ring and re-wrap the data key of every sealed "
        "row of every sealed model under it. Old versions stay in the ring so older backups "
        "remain readable. On several hosts: --stage, copy the ring to every host, then "
        "--activate (and copy it again): deploy/MULTI-HOST.md."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--rewrap-only",
            action="store_true",
            help="do not add a key; re-wrap under the current one",
        )
        mode.add_argument(
            "--stage",
            action="store_true",
            help="add a key without using it yet (copy the ring to every host, then --activate)",
        )
        mode.add_argument(
            "--activate",
            action="store_true",
            help="make the staged key current and re-wrap under it",
        )

    def handle(self, *args, rewrap_only, stage, activate, **options):
        path = settings.TIPLINE_KEYS_FILE
        ring = keyring.load(path)
        if stage:
            version = ring.add_kek(make_current=False)
            ring.save(path)
            keyring.reset_cache()
            self.stdout.write(
                f"Staged key-encryption key version {version} in {path} (current is still "
                f"{ring.current_kek}). Copy this ring to every host, then run "
                "rotate_keys --activate."
            )
            return
        if activate:
            try:
                version = ring.activate()
            except keyring.KeyRingError as exc:
                raise CommandError(f"{exc}: run rotate_keys --stage first") from None
            ring.save(path)
            keyring.reset_cache()
            self.stdout.write(f"Key-encryption key version {version} is now current in {path}.")
        elif not rewrap_only:
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
