/* SCRAM (RFC 5802, RFC 7677) message parsing, the key derivations and the
 * stored-credential format of the sasl_scram module.  Pure functions (no
 * host calls) so the unit test and the fuzzers link them directly. */
#ifndef SLUICE_SCRAM_MSG_H
#define SLUICE_SCRAM_MSG_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_MAX_HASH 64     /* SHA-512 */
#define SCRAM_MAX_SALT 128
#define SCRAM_MAX_NAME 256
#define SCRAM_MAX_NONCE 256
#define SCRAM_MIN_ITERATIONS 4096  /* Kafka's ScramMechanism.minIterations */
#define SCRAM_MAX_ITERATIONS 16384 /* Kafka's maxIterations */

/* client-first-message: gs2-header "n,," or "n,a=<authzid>," then
 * "n=<user>,r=<nonce>[,extensions]".  Borrowed pointers into the input
 * are copied out (user unescaped from =2C/=3D). */
struct scram_client_first {
    char user[SCRAM_MAX_NAME];
    char authzid[SCRAM_MAX_NAME];
    char nonce[SCRAM_MAX_NONCE];
    size_t gs2_len;  /* bytes of the gs2 header, including the trailing ',' */
    size_t bare_off; /* client-first-message-bare starts here */
};

/* client-final-message: "c=<b64 channel binding>,r=<nonce>[,ext],p=<b64 proof>". */
struct scram_client_final {
    uint8_t cbind[SCRAM_MAX_NAME + 8];
    size_t cbind_len;
    char nonce[SCRAM_MAX_NONCE * 2];
    uint8_t proof[SCRAM_MAX_HASH];
    size_t proof_len;
    size_t without_proof_len; /* "c=...,r=..." up to (not including) ",p=" */
};

/* 0, or -1 with a reason in err (never containing secrets). */
int scram_parse_client_first(const uint8_t *in, size_t len, struct scram_client_first *out,
                             char *err, size_t errlen);
int scram_parse_client_final(const uint8_t *in, size_t len, struct scram_client_final *out,
                             char *err, size_t errlen);

/* Base64 (RFC 4648, padded).  encode: returns the length written (out
 * needs 4*ceil(n/3)+1, NUL-terminated).  decode: strict (padding, no
 * whitespace); returns the length or -1. */
size_t scram_b64_encode(const uint8_t *in, size_t n, char *out);
long scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* The stored credential: never the password. */
struct scram_credential {
    uint8_t salt[SCRAM_MAX_SALT];
    size_t salt_len;
    uint8_t stored_key[SCRAM_MAX_HASH];
    uint8_t server_key[SCRAM_MAX_HASH];
    size_t key_len; /* the hash size */
    int32_t iterations;
};

/* Text form kept in the module's durable records, Kafka's
 * ScramCredentialUtils format: "salt=<b64>,stored_key=<b64>,
 * server_key=<b64>,iterations=<n>".  encode returns the length (out needs
 * 512 bytes); decode returns 0 or -1 (any malformed or oversized field,
 * key sizes not equal to hash_len). */
size_t scram_cred_encode(const struct scram_credential *c, char *out, size_t cap);
int scram_cred_decode(const char *in, size_t len, size_t hash_len, struct scram_credential *c);

/* Key derivation with OpenSSL; md_name "SHA256" or "SHA512".
 * From the salted password (Hi(password, salt, i)): StoredKey, ServerKey. */
int scram_keys_from_salted(const char *md_name, const uint8_t *salted, size_t len,
                           uint8_t *stored_key, uint8_t *server_key);
/* Hi() = PBKDF2-HMAC. */
int scram_salted_password(const char *md_name, const char *password, size_t pwlen,
                          const uint8_t *salt, size_t salt_len, int32_t iterations, uint8_t *out);
/* Verifies the proof against StoredKey in constant time, and computes the
 * ServerSignature for server-final.  Returns 1 when the proof is right. */
int scram_verify_proof(const char *md_name, const struct scram_credential *c,
                       const uint8_t *auth_msg, size_t auth_len, const uint8_t *proof,
                       size_t proof_len, uint8_t *server_sig);
/* Hash size of md_name (32 or 64), 0 when unknown. */
size_t scram_hash_len(const char *md_name);

#endif
