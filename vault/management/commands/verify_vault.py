from django.core.management.base import BaseCommand, CommandError

from vault.crypto import DecryptionError
from vault.models import sealed_models
from vault.storage import StorageUnavailable


class Command(BaseCommand):
    help = (
        "Open every sealed field and encrypted file of every sealed model with the configured "
        "key ring (after a restore or a key rotation). Prints counts only, never content; exits "
        "non-zero naming the first row that does not open."
    )

    def handle(self, *args, **options):
        failures = []
        for model in sealed_models():
            rows = checked = shredded = 0
            for row in model.objects.iterator(chunk_size=500):
                rows += 1
                shredded += row.is_shredded
                try:
                    checked += row.open_everything()
                except (DecryptionError, FileNotFoundError) as exc:
                    failures.append(f"{model._meta.label} {row.pk}: {exc.__class__.__name__}")
                except StorageUnavailable as exc:
                    raise CommandError(
                        f"the file storage does not answer ({exc.strerror}): nothing was "
                        "checked past this point; try again when it is back"
                    ) from None
            self.stdout.write(
                f"  {model._meta.label}: {rows} rows, {checked} ciphertexts opened, "
                f"{shredded} shredded"
            )
        if failures:
            raise CommandError(f"{len(failures)} sealed rows do not open; the first: {failures[0]}")
        self.stdout.write(self.style.SUCCESS("Every sealed row opens with this key ring."))
