/*
 * smtp_addr.h — pure parser of SMTP paths (RFC 5321 4.1.2, RFC 6531).
 *
 *   Path    = "<" [ A-d-l ":" ] Mailbox ">"
 *   Mailbox = Local-part "@" ( Domain / address-literal )
 *
 * This is the single place where envelope addresses from the network are
 * validated (OpenSMTPD CVE-2020-7247 lived in an unfuzzable copy of
 * this). The result is copied into the fixed-size struct the caller
 * provides; no allocation.
 */
#ifndef PETREL_SMTP_ADDR_H
#define PETREL_SMTP_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 4.5.3.1: local part 64 octets, domain 255, path 256. */
#define SMTP_LOCAL_MAX  64
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX   256

struct smtp_addr {
	/* Local part as the mail system sees it: a quoted string is
	 * unquoted and unescaped, and `quoted` remembers that it was. */
	char local[SMTP_LOCAL_MAX + 1];
	size_t local_len;
	/* Domain in lower case (ASCII letters only), or the literal with
	 * its brackets: "[192.0.2.1]", "[IPv6:2001:db8::1]". */
	char domain[SMTP_DOMAIN_MAX + 1];
	size_t domain_len;
	bool null_path;      /* "<>" */
	bool quoted;         /* local part was a Quoted-string */
	bool domain_literal; /* address-literal */
	bool utf8;           /* contains non-ASCII (needs SMTPUTF8) */
	bool source_route;   /* had an A-d-l, which RFC 5321 4.1.1.3 ignores */
};

enum smtp_addr_flags {
	SMTP_ADDR_ALLOW_NULL = 1 << 0,       /* MAIL FROM:<> */
	SMTP_ADDR_ALLOW_POSTMASTER = 1 << 1, /* RCPT TO:<Postmaster> */
};

/*
 * Parses a path at the start of in[0..len).
 * Returns >0: the number of octets consumed (through the closing '>'),
 * with *addr filled; <0: syntax error, with *error_r saying what.
 * Never returns 0 (the input is a complete line).
 */
int smtp_addr_parse(const char *in, size_t len, unsigned flags, struct smtp_addr *addr,
                    const char **error_r);

/*
 * Writes "local@domain" (quoting the local part again when it needs it)
 * into out, NUL-terminated. Returns the length, or -1 if out is too small.
 */
int smtp_addr_format(const struct smtp_addr *addr, char *out, size_t out_size);

/*
 * Checks a bare "local@domain" that names a mailbox of ours (a user, an
 * alias, a YAML user): a plain dot-atom local part, a domain name (no
 * literal), no '/' (it names a Maildir directory) and no leading '.'.
 * Returns 0 with *addr filled (domain lower-cased), or -1 with *error_r.
 */
int smtp_addr_mailbox_check(const char *address, size_t len, struct smtp_addr *addr,
                            const char **error_r);

/* True when the local part is a plain dot-atom (RFC 5321 Dot-string). */
bool smtp_addr_local_is_dot_string(const char *local, size_t len);

#endif
