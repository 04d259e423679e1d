/*
 * present.c — BIND presentation format on top of ldns (see present.h).
 */
#include "dns/present.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TYPE_TA 32768 /* DNSSEC Trust Authorities; ldns has no name for it */

uint16_t dns_type_parse(const char *name)
{
	if (strcasecmp(name, "TA") == 0)
		return TYPE_TA;
	if (strncasecmp(name, "TYPE", 4) == 0 && name[4] != '\0') {
		char *end;
		unsigned long value = strtoul(name + 4, &end, 10);
		return *end == '\0' && value > 0 && value <= 65535 ? (uint16_t)value : 0;
	}
	ldns_rr_type type = ldns_get_rr_type_by_name(name);
	/* ldns answers 0 for names it does not know. */
	return (uint16_t)type;
}

void dns_present_type(uint16_t type, struct buf *out)
{
	if (type == TYPE_TA) {
		buf_append_str(out, "TA");
		return;
	}
	char *name = ldns_rr_type2str((ldns_rr_type)type);
	buf_append_str(out, name ? name : "TYPE?");
	free(name);
}

/* One field as ldns prints it, without the trailing blanks ldns leaves
 * after some (NSEC bitmaps, NSEC3 salts). */
static void append_rdf(const ldns_rdf *rdf, struct buf *out)
{
	char *text = ldns_rdf2str(rdf);
	if (text)
		buf_append_str(out, text);
	free(text);
	while (out->len > 0 && isspace((unsigned char)out->data[out->len - 1]))
		buf_truncate(out, out->len - 1);
}

static void append_upper_hex(const uint8_t *data, size_t len, struct buf *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		buf_append_char(out, digits[data[i] >> 4]);
		buf_append_char(out, digits[data[i] & 15]);
	}
}

/* DS, CDS and TA: key tag, algorithm, digest type, digest (RFC 4034 5.3). */
static void present_ds_wire(const uint8_t *data, size_t len, struct buf *out)
{
	if (len < 4) {
		buf_appendf(out, "\\# %zu ", len);
		append_upper_hex(data, len, out);
		return;
	}
	buf_appendf(out, "%u %u %u ", (unsigned)(data[0] << 8 | data[1]), data[2],
	            data[3]);
	append_upper_hex(data + 4, len - 4, out);
}

/* Fields before the last as ldns prints them, the last as upper hex. */
static void present_hex_last(const ldns_rr *rr, struct buf *out)
{
	size_t count = ldns_rr_rd_count(rr);
	for (size_t i = 0; i + 1 < count; i++) {
		append_rdf(ldns_rr_rdf(rr, i), out);
		buf_append_char(out, ' ');
	}
	if (count > 0) {
		const ldns_rdf *last = ldns_rr_rdf(rr, count - 1);
		append_upper_hex(ldns_rdf_data(last), ldns_rdf_size(last), out);
	}
}

/* SVCB/HTTPS: ldns prints alpn=h2,h3; BIND quotes the value list. */
static void quote_alpn(struct buf *text)
{
	struct buf fixed = BUF_INIT;
	const char *p = buf_cstr(text);
	while (*p) {
		const char *key = strstr(p, "alpn=");
		if (key == NULL || (key != buf_cstr(text) && key[-1] != ' ')) {
			buf_append_str(&fixed, p);
			break;
		}
		buf_append(&fixed, p, (size_t)(key - p) + 5);
		const char *value = key + 5;
		size_t len = strcspn(value, " ");
		if (len > 0 && value[0] != '"') {
			buf_append_char(&fixed, '"');
			buf_append(&fixed, value, len);
			buf_append_char(&fixed, '"');
		} else {
			buf_append(&fixed, value, len);
		}
		p = value + len;
	}
	buf_reset(text);
	buf_append(text, fixed.data, fixed.len);
	buf_free(&fixed);
}

void dns_present_rdata(const ldns_rr *rr, struct buf *out)
{
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	switch (type) {
	case LDNS_RR_TYPE_DS:
	case LDNS_RR_TYPE_CDS:
	case LDNS_RR_TYPE_TLSA:
	case LDNS_RR_TYPE_SSHFP:
		present_hex_last(rr, out);
		return;
	case TYPE_TA:
		/* Unknown to ldns: one raw field holding DS-format data. */
		if (ldns_rr_rd_count(rr) == 1) {
			const ldns_rdf *raw = ldns_rr_rdf(rr, 0);
			present_ds_wire(ldns_rdf_data(raw), ldns_rdf_size(raw), out);
			return;
		}
		break;
	default:
		break;
	}
	if (type == LDNS_RR_TYPE_NSEC3 || type == LDNS_RR_TYPE_NSEC3PARAM) {
		/* BIND: salt in upper-case hex, next hashed owner in upper-case
		 * base32hex; ldns prints both in lower case. */
		for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
			if (i)
				buf_append_char(out, ' ');
			size_t start = out->len;
			append_rdf(ldns_rr_rdf(rr, i), out);
			if (i == 3 || i == 4)
				for (size_t j = start; j < out->len; j++)
					out->data[j] =
					    (char)toupper((unsigned char)out->data[j]);
		}
		return;
	}
	struct buf text = BUF_INIT;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i)
			buf_append_char(&text, ' ');
		append_rdf(ldns_rr_rdf(rr, i), &text);
	}
	if (type == LDNS_RR_TYPE_SVCB || type == LDNS_RR_TYPE_HTTPS)
		quote_alpn(&text);
	buf_append(out, text.data, text.len);
	buf_free(&text);
}

void dns_present_rr(const ldns_rr *rr, struct buf *out)
{
	append_rdf(ldns_rr_owner(rr), out);
	buf_appendf(out, "\t%u\t", (unsigned)ldns_rr_ttl(rr));
	char *class_name = ldns_rr_class2str(ldns_rr_get_class(rr));
	buf_append_str(out, class_name ? class_name : "CLASS?");
	free(class_name);
	buf_append_char(out, '\t');
	dns_present_type((uint16_t)ldns_rr_get_type(rr), out);
	buf_append_char(out, '\t');
	dns_present_rdata(rr, out);
}
