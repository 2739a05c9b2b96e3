"""Encrypted files in S3-compatible object storage (TIPLINE_FILE_STORAGE=s3), through
django-storages and boto3, so that every app host and worker reads what any of them wrote.

What reaches the bucket is the ciphertext vault.storage sealed, under the row's random id: no URL
is ever handed out (no public ACL, no presigned links) and nothing is staged on the local disk:
uploads are sent from memory and downloads are read into memory (max_memory_size 0: a download
is never spooled to a temporary file).
"""

from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage

from .storage import SUFFIX, StorageUnavailable


def _unavailable(exc: Exception) -> StorageUnavailable:
    code = ""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
    return StorageUnavailable(f"object storage: {type(exc).__name__} {code}".strip())


class S3FileStorage(S3Storage):
    def get_default_settings(self):
        defaults = super().get_default_settings()
        defaults.update(
            file_overwrite=True,  # a row's file has its row's name
            default_acl=None,  # the bucket's own policy: private
            querystring_auth=True,
            max_memory_size=0,  # never roll a download over into a temporary file
            gzip=False,
        )
        return defaults

    def _save(self, name, content):
        try:
            return super()._save(name, content)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def _open(self, name, mode="rb"):
        try:
            return super()._open(name, mode)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def delete(self, name):
        try:
            return super().delete(name)
        except (BotoCoreError, ClientError) as exc:
            raise _unavailable(exc) from exc

    def all_names(self) -> list[str]:
        client = self.connection.meta.client
        prefix = self._normalize_name("")
        prefix = f"{prefix.rstrip('/')}/" if prefix else ""
        found = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket_name, Prefix=prefix
        ):
            found += [item["Key"][len(prefix) :] for item in page.get("Contents", ())]
        return sorted(n for n in found if n.endswith(SUFFIX) and "/" not in n)

    def check(self) -> str:
        """The bucket answers with these credentials (HEAD bucket)."""
        self.connection.meta.client.head_bucket(Bucket=self.bucket_name)
        return f"ok: s3 bucket {self.bucket_name}"
