"""The server's field encryption: the shared implementation in :mod:`sync.fieldcrypto`."""

from sync.fieldcrypto import KEY_BYTES, DecryptError, FieldCipher, KeyFileError, load_or_create_key

__all__ = ["KEY_BYTES", "DecryptError", "FieldCipher", "KeyFileError", "load_or_create_key"]
