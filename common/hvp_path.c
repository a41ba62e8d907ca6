/*
 * hvp_path.c - lexical path names (hvp_path.h). Freestanding: no libc calls.
 */
#include "hvp_path.h"

struct pbuf {
	char *out;
	size_t cap;               /* bytes of out, the NUL included */
	size_t n;                 /* bytes written */
	unsigned fl;
};

/* Append the components of s[0, len) to b, folding "." and "..". */
static void put_parts(struct pbuf *b, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && !(b->fl & HVP_PATH_TRUNC)) {
		if (s[i] == 0) {
			b->fl |= HVP_PATH_NUL;
			return;
		}
		if (s[i] == '/') {
			i++;
			continue;
		}
		size_t c = i;
		while (i < len && s[i] != '/' && s[i] != 0)
			i++;
		size_t l = i - c;
		if (l == 1 && s[c] == '.')
			continue;
		if (l == 2 && s[c] == '.' && s[c + 1] == '.') {
			/* drop the last component and its "/"; at the root nothing is left */
			while (b->n > 0 && b->out[b->n - 1] != '/')
				b->n--;
			if (b->n > 0)
				b->n--;
			continue;
		}
		/* "/" + the component + the final NUL must fit */
		if (b->cap < 2 || l > b->cap - 2 || b->n > b->cap - 2 - l) {
			b->fl |= HVP_PATH_TRUNC;
			return;
		}
		b->out[b->n++] = '/';
		for (size_t k = 0; k < l; k++)
			b->out[b->n++] = s[c + k];
	}
}

unsigned hvp_path_join(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
		       size_t cap, size_t *outlen)
{
	struct pbuf b = { out, cap, 0, 0 };
	if (outlen)
		*outlen = 0;
	if (cap == 0)
		return HVP_PATH_TRUNC;
	if (!(rlen > 0 && rel[0] == '/') && base)
		put_parts(&b, base, blen);
	if (rel)
		put_parts(&b, rel, rlen);
	if (b.n == 0) {
		if (cap < 2) {
			out[0] = 0;
			return b.fl | HVP_PATH_TRUNC;
		}
		out[b.n++] = '/';
	}
	out[b.n] = 0;
	if (outlen)
		*outlen = b.n;
	return b.fl;
}

unsigned hvp_path_norm(const char *path, size_t len, char *out, size_t cap, size_t *outlen)
{
	return hvp_path_join(NULL, 0, path, len, out, cap, outlen);
}

size_t hvp_path_len(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}
