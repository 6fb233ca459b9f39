"""Keys: one keyfile, three CURVE keypairs (broker, worker, client).

The derivation is docs/protocol.md §7, and must give the same bytes as the
C++ programs, or the broker refuses the client without a word:

1. The secret is the keyfile's bytes less every trailing newline and
   carriage return; it must not be empty.
2. A secret of "argon-master-key:" and exactly 64 hex digits (either case)
   holds the 32-byte master key itself: 256 random bits gain nothing from
   stretching. One that starts so but goes on otherwise is refused, since it
   is a damaged keyfile rather than a passphrase. Any other secret is a
   passphrase, stretched with Argon2id (t=2, 64 MiB, salt
   "argon-keyfile-v1"), which costs about 0.1 s.
3. crypto_kdf_derive_from_key (keyed BLAKE2b, context "argon-v1") turns the
   master key into one seed per role: subkey 1 broker, 2 worker, 3 client.
4. crypto_box_seed_keypair turns each seed into a keypair.
"""

import logging
import os
import re
import stat
import struct
from dataclasses import dataclass

import nacl.bindings
import nacl.pwhash
import zmq.utils.z85

from .errors import ConfigError

log = logging.getLogger("argon_client")

MASTER_KEY_PREFIX = b"argon-master-key:"  # a keyfile holding the master key itself
PASSPHRASE_SALT = b"argon-keyfile-v1"  # Argon2id salt, 16 bytes, fixed by the protocol
ARGON2_OPSLIMIT = 2  # crypto_pwhash_OPSLIMIT_INTERACTIVE
ARGON2_MEMLIMIT = 67108864  # crypto_pwhash_MEMLIMIT_INTERACTIVE, bytes
KDF_CONTEXT = b"argon-v1"  # crypto_kdf context, 8 bytes
BROKER_SUBKEY, WORKER_SUBKEY, CLIENT_SUBKEY = 1, 2, 3  # crypto_kdf subkey ids per role

_MASTER_HEX = re.compile(rb"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class Keypair:
    """A CURVE keypair as raw 32-byte keys."""

    public: bytes  # shared with peers
    secret: bytes  # never leaves the process

    def public_z85(self) -> bytes:
        """The public key as pyzmq's curve options take it."""
        return zmq.utils.z85.encode(self.public)

    def secret_z85(self) -> bytes:
        """The secret key as pyzmq's curve options take it."""
        return zmq.utils.z85.encode(self.secret)


@dataclass(frozen=True)
class RoleKeys:
    """The three roles' keypairs."""

    broker: Keypair  # CURVE server
    worker: Keypair  # worker slots and control channels
    client: Keypair  # clients, the CLI and the monitor


def master_key(keyfile_bytes: bytes) -> bytes:
    """The 32-byte master key of a keyfile's contents (steps 1 and 2); raises ConfigError."""
    secret = keyfile_bytes.rstrip(b"\r\n")
    if not secret:
        raise ConfigError("the keyfile is empty")
    if secret.startswith(MASTER_KEY_PREFIX):
        digits = secret[len(MASTER_KEY_PREFIX):]
        if not _MASTER_HEX.fullmatch(digits):
            raise ConfigError("the keyfile starts with 'argon-master-key:' but is not followed by exactly "
                              "64 hex digits; make a new one with 'argon keygen FILE'")
        return bytes.fromhex(digits.decode("ascii"))
    return _argon2id(secret)


def _argon2id(passphrase: bytes) -> bytes:
    try:
        return nacl.pwhash.argon2id.kdf(32, passphrase, PASSPHRASE_SALT,
                                        opslimit=ARGON2_OPSLIMIT, memlimit=ARGON2_MEMLIMIT)
    except MemoryError as e:
        raise ConfigError("Argon2id key derivation ran out of memory") from e


def role_seed(master: bytes, subkey_id: int) -> bytes:
    """crypto_kdf_derive_from_key(32, subkey_id, "argon-v1", master), as libsodium computes it:
    keyed BLAKE2b of nothing, the subkey id little-endian as salt, the context as personalisation."""
    salt = struct.pack("<Q", subkey_id).ljust(16, b"\0")
    person = KDF_CONTEXT.ljust(16, b"\0")
    return nacl.bindings.crypto_generichash_blake2b_salt_personal(b"", 32, key=master, salt=salt, person=person)


def keypair_from(master: bytes, subkey_id: int) -> Keypair:
    """The keypair of one role (steps 3 and 4)."""
    public, secret = nacl.bindings.crypto_box_seed_keypair(role_seed(master, subkey_id))
    return Keypair(public=public, secret=secret)


def derive_keys(keyfile_bytes: bytes) -> RoleKeys:
    """All three keypairs from a keyfile's contents; raises ConfigError for an empty or damaged one."""
    master = master_key(keyfile_bytes)
    return RoleKeys(broker=keypair_from(master, BROKER_SUBKEY), worker=keypair_from(master, WORKER_SUBKEY),
                    client=keypair_from(master, CLIENT_SUBKEY))


def load_keys(path: str) -> RoleKeys:
    """Reads a keyfile and derives its keys; raises ConfigError when it cannot.

    A keyfile its group or others may read is used, with a warning that names
    it and the fix, as the C++ programs do: whoever reads it can pose as any role.
    """
    try:
        with open(path, "rb") as f:
            contents = f.read()
            mode = os.fstat(f.fileno()).st_mode
    except IsADirectoryError as e:
        raise ConfigError(f"cannot read keyfile '{path}': it is a directory") from e
    except OSError as e:
        raise ConfigError(f"cannot read keyfile '{path}': {e.strerror}") from e
    keys = derive_keys(contents)
    if stat.S_ISREG(mode) and mode & 0o077:
        log.warning("keyfile %s can be read by its group or by others (mode %04o); whoever reads it can pose as "
                    "the broker, a worker or a client: run chmod 600 %s", path, stat.S_IMODE(mode), path)
    return keys
