/* SCRAM messages and crypto of the sasl_scram module
 * (modules/sasl_scram/scram_msg.c), checked against RFC 7677's
 * SCRAM-SHA-256 example, plus the parsers' refusals and the stored
 * credential format. */
#include "scram_msg.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

#define CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CFINAL_WO "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define CFINAL CFINAL_WO ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SFINAL_SIG "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static int parse_first(const char *m, struct scram_client_first *cf)
{
    char err[200];
    return scram_parse_client_first((const uint8_t *)m, strlen(m), cf, err, sizeof err);
}

static int parse_final(const char *m, struct scram_client_final *cf)
{
    char err[200];
    return scram_parse_client_final((const uint8_t *)m, strlen(m), cf, err, sizeof err);
}

int main(void)
{
    /* RFC 7677 section 3. */
    struct scram_client_first cf;
    is_int(parse_first(CFIRST, &cf), 0, "RFC 7677 client-first parses");
    is_str(cf.user, "user", "user name");
    is_str(cf.nonce, "rOprNGfwEbeRWgbNEkqO", "client nonce");
    is_int((int)cf.gs2_len, 3, "gs2 header 'n,,'");
    struct scram_client_final fin;
    is_int(parse_final(CFINAL, &fin), 0, "RFC 7677 client-final parses");
    is_int((int)fin.without_proof_len, (int)strlen(CFINAL_WO), "client-final-without-proof length");
    is_int((int)fin.proof_len, 32, "32-byte proof");
    is_mem(fin.cbind, "n,,", 3, "channel binding decodes to the gs2 header");

    uint8_t salt[64];
    long sl = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    is_int((int)sl, 16, "salt decodes to 16 bytes");
    uint8_t salted[64];
    is_int(scram_salted_password("SHA256", "pencil", 6, salt, (size_t)sl, 4096, salted), 0,
           "Hi(pencil, salt, 4096)");
    struct scram_credential c = { .salt_len = (size_t)sl, .key_len = 32, .iterations = 4096 };
    memcpy(c.salt, salt, (size_t)sl);
    is_int(scram_keys_from_salted("SHA256", salted, 32, c.stored_key, c.server_key), 0,
           "StoredKey and ServerKey derived");
    const char *auth = "n=user,r=rOprNGfwEbeRWgbNEkqO," SFIRST "," CFINAL_WO;
    uint8_t sig[64];
    is_int(scram_verify_proof("SHA256", &c, (const uint8_t *)auth, strlen(auth), fin.proof,
                              fin.proof_len, sig),
           1, "RFC 7677 client proof verifies against the stored key");
    char sigb64[100];
    scram_b64_encode(sig, 32, sigb64);
    is_str(sigb64, SFINAL_SIG, "ServerSignature matches RFC 7677's server-final v=");
    uint8_t bad[32];
    memcpy(bad, fin.proof, 32);
    bad[0] ^= 1;
    is_int(scram_verify_proof("SHA256", &c, (const uint8_t *)auth, strlen(auth), bad, 32, sig), 0,
           "a flipped proof bit fails");
    is_int(scram_verify_proof("SHA256", &c, (const uint8_t *)auth, strlen(auth), fin.proof, 31,
                              sig),
           0, "a short proof fails");

    /* Stored credential round trip: no password in it. */
    char text[512];
    size_t n = scram_cred_encode(&c, text, sizeof text);
    ok(n > 0 && strstr(text, "iterations=4096") && !strstr(text, "pencil"),
       "credential text holds keys and iterations, not the password: %s", text);
    struct scram_credential back;
    is_int(scram_cred_decode(text, n, 32, &back), 0, "credential decodes");
    ok(back.iterations == 4096 && back.salt_len == 16 &&
           memcmp(back.stored_key, c.stored_key, 32) == 0 &&
           memcmp(back.server_key, c.server_key, 32) == 0,
       "decoded credential equals the original");
    is_int(scram_cred_decode(text, n, 64, &back), -1, "wrong hash size refused");
    const char *bad_creds[] = {
        "", "salt=AAAA", "salt=AAAA,stored_key=,server_key=,iterations=4096",
        "salt=AAAA,stored_key=" "W22ZaJ0SNY7soEsUEjb6gQ==,server_key=W22ZaJ0SNY7soEsUEjb6gQ==,iterations=1",
        "salt=@@@@,iterations=4096", "bogus=1",
    };
    for (size_t i = 0; i < sizeof bad_creds / sizeof *bad_creds; i++)
        is_int(scram_cred_decode(bad_creds[i], strlen(bad_creds[i]), 32, &back), -1,
               "malformed credential '%s' refused", bad_creds[i]);

    /* Parser refusals and escapes. */
    is_int(parse_first("n,,n=a=2Cb=3Dc,r=xyz", &cf), 0, "escaped user name");
    is_str(cf.user, "a,b=c", "=2C and =3D unescaped");
    is_int(parse_first("n,a=user,n=user,r=xyz", &cf), 0, "authzid equal to the user accepted");
    const char *bad_first[] = {
        "", "n", "p=tls-unique,,n=u,r=x", "n,,n=,r=x", "n,,n=u", "n,,n=u,r=", "n,,n=a=2,r=x",
        "n,,n=a=ZZ,r=x", "n,,r=x,n=u", "n,a=other,n=u,r=x", "n,,n=u,r=x,bad",
    };
    for (size_t i = 0; i < sizeof bad_first / sizeof *bad_first; i++)
        is_int(parse_first(bad_first[i], &cf), -1, "client-first '%s' refused", bad_first[i]);
    is_int(parse_first("n,,n=u,r=x,tokenauth=true", &cf), 0, "extensions after the nonce accepted");
    const char *bad_final[] = {
        "", "c=biws", "c=biws,r=x", "c=biws,r=x,p=", "c=!!!!,r=x,p=AAAA", "r=x,c=biws,p=AAAA",
        "c=biws,r=x,p=AAAA,extra=1", "c=biws,r=x,bad,p=AAAA",
    };
    for (size_t i = 0; i < sizeof bad_final / sizeof *bad_final; i++)
        is_int(parse_final(bad_final[i], &fin), -1, "client-final '%s' refused", bad_final[i]);

    /* Base64 strictness. */
    uint8_t b[16];
    is_int((int)scram_b64_decode("AA=A", 4, b, sizeof b), -1, "data after padding refused");
    is_int((int)scram_b64_decode("AAA", 3, b, sizeof b), -1, "unpadded length refused");
    is_int((int)scram_b64_decode("QUJD", 4, b, 2), -1, "output larger than the buffer refused");
    return done_testing();
}
