/*
 * cmd_thread.c — THREAD (RFC 5256 4): REFERENCES, the threads that
 * Message-ID, References and In-Reply-To describe (Zawinski's algorithm
 * as the RFC spells it: link, prune, group the roots by base subject,
 * order by sent date), and ORDEREDSUBJECT, messages grouped by base
 * subject. Loops in hostile References are refused link by link, and
 * the depth of what is written is bounded by the messages.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "imapd/sort_keys.h"
#include "lib/xalloc.h"

#define NONE (-1)

struct node {
	long message; /* index into the keys, or NONE for a dummy */
	long parent, child, next;
	bool removed;
};

struct forest {
	struct node *nodes;
	size_t count, cap;
	const struct message_keys *keys;
	/* Message-ID → node (open addressing) */
	char **ids;
	long *id_nodes;
	size_t id_size;
};

static long new_node(struct forest *f, long message)
{
	xgrow((void **)&f->nodes, &f->cap, f->count + 1, sizeof(*f->nodes));
	f->nodes[f->count] = (struct node){message, NONE, NONE, NONE, false};
	return (long)f->count++;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The node of a Message-ID, made (as a dummy) when new. */
static long node_for_id(struct forest *f, const char *id)
{
	size_t mask = f->id_size - 1;
	for (size_t i = hash(id) & mask;; i = (i + 1) & mask) {
		if (f->ids[i] == NULL) {
			f->ids[i] = xstrdup(id);
			f->id_nodes[i] = new_node(f, NONE);
			return f->id_nodes[i];
		}
		if (strcmp(f->ids[i], id) == 0)
			return f->id_nodes[i];
	}
}

/* The msg-ids "<...>" of a header value, at most max, into ids. */
static size_t message_ids(const char *value, char **ids, size_t max)
{
	size_t n = 0;
	while (value && n < max) {
		const char *open = strchr(value, '<');
		const char *close = open ? strchr(open, '>') : NULL;
		if (close == NULL)
			break;
		if (close - open > 1)
			ids[n++] = xstrndup(open, (size_t)(close - open + 1));
		value = close + 1;
	}
	return n;
}

static bool is_ancestor(const struct forest *f, long maybe, long of)
{
	for (long p = of; p != NONE; p = f->nodes[p].parent)
		if (p == maybe)
			return true;
	return false;
}

static void unlink_node(struct forest *f, long n)
{
	long p = f->nodes[n].parent;
	if (p == NONE)
		return;
	long *at = &f->nodes[p].child;
	while (*at != NONE && *at != n)
		at = &f->nodes[*at].next;
	if (*at == n)
		*at = f->nodes[n].next;
	f->nodes[n].parent = NONE;
	f->nodes[n].next = NONE;
}

static void link_node(struct forest *f, long parent, long child)
{
	unlink_node(f, child);
	f->nodes[child].parent = parent;
	f->nodes[child].next = f->nodes[parent].child;
	f->nodes[parent].child = child;
}

#define REFS_MAX 256

static void build(struct forest *f, size_t count)
{
	f->id_size = 16;
	while (f->id_size < count * 4 + 16)
		f->id_size *= 2;
	f->ids = xcalloc(f->id_size, sizeof(*f->ids));
	f->id_nodes = xcalloc(f->id_size, sizeof(*f->id_nodes));
	char *refs[REFS_MAX];
	for (size_t m = 0; m < count; m++) {
		const struct message_keys *k = &f->keys[m];
		char *own[1];
		long self = NONE;
		if (message_ids(k->message_id, own, 1) == 1) {
			self = node_for_id(f, own[0]);
			free(own[0]);
			if (f->nodes[self].message != NONE)
				self = NONE; /* a duplicate Message-ID: its own node */
		}
		if (self == NONE)
			self = new_node(f, NONE);
		f->nodes[self].message = (long)m;
		size_t n = message_ids(k->references, refs, REFS_MAX);
		if (n == 0)
			n = message_ids(k->in_reply_to, refs, 1);
		long prev = NONE;
		for (size_t i = 0; i < n; i++) {
			long r = node_for_id(f, refs[i]);
			if (prev != NONE && r != prev && f->nodes[r].parent == NONE &&
			    !is_ancestor(f, r, prev))
				link_node(f, prev, r);
			prev = r;
			free(refs[i]);
		}
		/* The last reference is the parent, whatever was guessed. */
		if (prev != NONE && prev != self && !is_ancestor(f, self, prev))
			link_node(f, prev, self);
		else if (n == 0)
			unlink_node(f, self);
	}
}

static int64_t node_date(const struct forest *f, long n)
{
	for (; n != NONE; n = f->nodes[n].child)
		if (f->nodes[n].message != NONE)
			return f->keys[f->nodes[n].message].sent;
	return 0;
}

static uint32_t node_seq(const struct forest *f, long n)
{
	for (; n != NONE; n = f->nodes[n].child)
		if (f->nodes[n].message != NONE)
			return f->keys[f->nodes[n].message].seq;
	return 0;
}

static const struct forest *sorting;

static int by_date(const void *pa, const void *pb)
{
	long a = *(const long *)pa, b = *(const long *)pb;
	int64_t da = node_date(sorting, a), db = node_date(sorting, b);
	if (da != db)
		return da < db ? -1 : 1;
	uint32_t sa = node_seq(sorting, a), sb = node_seq(sorting, b);
	return sa < sb ? -1 : sa > sb;
}

/* The children of n (or of the roots when n is NONE), as an array. */
static long *children(const struct forest *f, long first, size_t *count)
{
	size_t cap = 0;
	long *out = NULL;
	*count = 0;
	for (long c = first; c != NONE; c = f->nodes[c].next) {
		xgrow((void **)&out, &cap, *count + 1, sizeof(*out));
		out[(*count)++] = c;
	}
	return out;
}

/* Sorts every level below n by date (iteratively: no recursion a deep
 * chain of References could exhaust). */
static void sort_children(struct forest *f, long root)
{
	size_t cap = 16, top = 0;
	long *stack = xcalloc(cap, sizeof(*stack));
	stack[top++] = root;
	while (top) {
		long n = stack[--top];
		size_t count;
		long *kids = children(f, f->nodes[n].child, &count);
		sorting = f;
		if (count > 1)
			qsort(kids, count, sizeof(*kids), by_date);
		f->nodes[n].child = count ? kids[0] : NONE;
		for (size_t i = 0; i < count; i++) {
			f->nodes[kids[i]].next = i + 1 < count ? kids[i + 1] : NONE;
			xgrow((void **)&stack, &cap, top + 1, sizeof(*stack));
			stack[top++] = kids[i];
		}
		free(kids);
	}
	free(stack);
}

/* RFC 5256 step 4: dummies without children go; a dummy's children take
 * its place (a root's are handled by the caller). Bottom-up, with an
 * explicit stack: a chain of References as long as the mailbox must not
 * exhaust the C stack. */
static void prune(struct forest *f, long root)
{
	size_t cap = 16, top = 0, order_count = 0, order_cap = 0;
	long *stack = xcalloc(cap, sizeof(*stack)), *order = NULL;
	stack[top++] = root;
	while (top) {
		long n = stack[--top];
		xgrow((void **)&order, &order_cap, order_count + 1, sizeof(*order));
		order[order_count++] = n;
		for (long c = f->nodes[n].child; c != NONE; c = f->nodes[c].next) {
			xgrow((void **)&stack, &cap, top + 1, sizeof(*stack));
			stack[top++] = c;
		}
	}
	/* children come after their parents in order: walk it backwards */
	for (size_t i = order_count; i-- > 0;) {
		long n = order[i];
		if (n == root || f->nodes[n].message != NONE)
			continue;
		long parent = f->nodes[n].parent;
		size_t count;
		long *kids = children(f, f->nodes[n].child, &count);
		for (size_t k = 0; k < count; k++)
			link_node(f, parent, kids[k]);
		free(kids);
		unlink_node(f, n);
		f->nodes[n].removed = true;
	}
	free(stack);
	free(order);
}

static const char *subject_of(const struct forest *f, long n)
{
	long m = f->nodes[n].message != NONE ? n : f->nodes[n].child;
	if (m == NONE || f->nodes[m].message == NONE)
		return NULL;
	const char *s = f->keys[f->nodes[m].message].subject;
	return s && *s ? s : NULL;
}

static bool is_reply(const struct forest *f, long n)
{
	return f->nodes[n].message != NONE && f->keys[f->nodes[n].message].subject_reply;
}

static void write_node(struct imap_client *c, const struct forest *f, long n,
                       struct buf *out);

/* "(a b (c)(d))": a chain, then each branch in parentheses. */
static void write_thread(struct imap_client *c, const struct forest *f, long n,
                         struct buf *out)
{
	buf_append_char(out, '(');
	write_node(c, f, n, out);
	buf_append_char(out, ')');
}

static void write_node(struct imap_client *c, const struct forest *f, long n,
                       struct buf *out)
{
	bool first = true;
	while (n != NONE) {
		if (f->nodes[n].message != NONE) {
			const struct message_keys *k = &f->keys[f->nodes[n].message];
			buf_appendf(out, "%s%u", first ? "" : " ",
			            c->uid ? k->uid : k->seq);
			first = false;
		}
		long kid = f->nodes[n].child;
		if (kid != NONE && f->nodes[kid].next != NONE) {
			if (!first)
				buf_append_char(out, ' ');
			for (long k = kid; k != NONE; k = f->nodes[k].next)
				write_thread(c, f, k, out);
			return;
		}
		n = kid;
	}
}

static long *references(struct forest *f, size_t count, size_t *root_count)
{
	build(f, count);
	/* A virtual root holds the root set, so pruning and sorting treat it
	 * as one tree. */
	long top = new_node(f, NONE);
	for (size_t i = 0; i + 1 < f->count; i++)
		if (f->nodes[i].parent == NONE)
			link_node(f, top, (long)i);
	for (long c = f->nodes[top].child, next; c != NONE; c = next) {
		next = f->nodes[c].next;
		prune(f, c);
		/* a root dummy with no child, or one child, goes too */
		if (f->nodes[c].message == NONE) {
			size_t kids;
			long *list = children(f, f->nodes[c].child, &kids);
			if (kids <= 1) {
				for (size_t i = 0; i < kids; i++)
					link_node(f, top, list[i]);
				unlink_node(f, c);
			}
			free(list);
		}
	}
	sort_children(f, top);
	/* Step 5: roots with the same base subject are one thread. */
	size_t n;
	long *roots = children(f, f->nodes[top].child, &n);
	for (size_t i = 0; i < n; i++) {
		const char *si = subject_of(f, roots[i]);
		if (si == NULL || f->nodes[roots[i]].parent != top)
			continue;
		for (size_t j = 0; j < i; j++) {
			long t = roots[j];
			const char *sj =
			    f->nodes[t].parent == top ? subject_of(f, t) : NULL;
			if (sj == NULL || strcasecmp(si, sj) != 0)
				continue;
			long r = roots[i];
			bool r_dummy = f->nodes[r].message == NONE,
			     t_dummy = f->nodes[t].message == NONE;
			if (t_dummy && r_dummy) {
				size_t kids;
				long *list = children(f, f->nodes[r].child, &kids);
				for (size_t k = 0; k < kids; k++)
					link_node(f, t, list[k]);
				free(list);
				unlink_node(f, r);
			} else if (t_dummy || (!is_reply(f, t) && is_reply(f, r))) {
				link_node(f, t, r);
			} else if (r_dummy || (is_reply(f, t) && !is_reply(f, r))) {
				link_node(f, r, t);
				roots[j] = r; /* r now stands for the subject */
			} else {
				long dummy = new_node(f, NONE);
				link_node(f, top, dummy);
				link_node(f, dummy, t);
				link_node(f, dummy, r);
				roots[j] = dummy;
			}
			break;
		}
	}
	free(roots);
	sort_children(f, top);
	return children(f, f->nodes[top].child, root_count);
}

static int by_subject(const void *pa, const void *pb)
{
	const struct message_keys *a = pa, *b = pb;
	int r = strcasecmp(a->subject ? a->subject : "", b->subject ? b->subject : "");
	if (r)
		return r;
	if (a->sent != b->sent)
		return a->sent < b->sent ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ORDEREDSUBJECT: by base subject then date; the first of each subject
 * is the parent of the others. */
static long *ordered_subject(struct forest *f, struct message_keys *keys, size_t count,
                             size_t *root_count)
{
	qsort(keys, count, sizeof(*keys), by_subject);
	long *roots = xcalloc(count + 1, sizeof(*roots));
	*root_count = 0;
	long parent = NONE;
	for (size_t i = 0; i < count; i++) {
		long n = new_node(f, (long)i);
		bool same = parent != NONE &&
		            strcasecmp(keys[i].subject ? keys[i].subject : "",
		                       keys[f->nodes[parent].message].subject
		                           ? keys[f->nodes[parent].message].subject
		                           : "") == 0;
		if (same) {
			/* appended in date order: the last sibling is the tail */
			long *at = &f->nodes[parent].child;
			while (*at != NONE)
				at = &f->nodes[*at].next;
			*at = n;
			f->nodes[n].parent = parent;
		} else {
			parent = n;
			roots[(*root_count)++] = n;
		}
	}
	sorting = f;
	qsort(roots, *root_count, sizeof(*roots), by_date);
	return roots;
}

void imap_cmd_thread(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	const char *algorithm =
	    count >= 3 && args->type == IMAP_ARG_ATOM ? args->str : NULL;
	bool refs = algorithm && strcasecmp(algorithm, "REFERENCES") == 0;
	if (algorithm == NULL ||
	    (!refs && strcasecmp(algorithm, "ORDEREDSUBJECT") != 0)) {
		client_tagged(c, "BAD", "THREAD REFERENCES|ORDEREDSUBJECT charset keys");
		return;
	}
	size_t hits;
	struct message_keys *keys = sort_keys_search(c, args->next, &hits);
	if (keys == NULL)
		return;
	struct forest f = {.keys = keys};
	size_t root_count;
	long *roots = refs ? references(&f, hits, &root_count)
	                   : ordered_subject(&f, keys, hits, &root_count);
	struct buf out = BUF_INIT;
	buf_append_str(&out, "THREAD ");
	for (size_t i = 0; i < root_count; i++)
		write_thread(c, &f, roots[i], &out);
	client_untagged(c, "%s", out.data);
	buf_free(&out);
	for (size_t i = 0; i < f.id_size; i++)
		free(f.ids ? f.ids[i] : NULL);
	free(f.ids);
	free(f.id_nodes);
	free(f.nodes);
	free(roots);
	sort_keys_free(keys, hits);
	client_tagged(c, "OK", "Thread completed");
}
