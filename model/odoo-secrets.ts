/**
 * The Secrets an Odoo pod reads as files, and the form of a hashed `admin_passwd`. Pure; the tenant
 * component writes them, the policy pack checks them.
 */

/** The master password as Odoo's config stores it: only its passlib hash, never the password. */
export const ODOO_ADMIN_SECRET = { name: "odoo-admin", key: "hash" } as const;

/** session_redis's connection URL (`rediss://<user>:<password>@host:port/0`), read into its environment at start. */
export const ODOO_REDIS_SECRET = { name: "odoo-redis", key: "url" } as const;

/**
 * passlib's pbkdf2_sha512 format, which Odoo's `admin_passwd` accepts (odoo/tools/config.py:
 * `CryptContext(schemes=['pbkdf2_sha512', 'plaintext'], deprecated=['plaintext'])`, verified by
 * verify_admin_password): `$pbkdf2-sha512$<rounds>$<salt>$<64-byte checksum>`, both in passlib's
 * adapted base64 (`.` for `+`, no padding).
 */
export const PASSLIB_PBKDF2_SHA512 = /^\$pbkdf2-sha512\$[1-9]\d*\$[A-Za-z0-9./]{22,}\$[A-Za-z0-9./]{86}$/;
