/* hvp_json.c - JSON string literals (see hvp_json.h). */
#include <string.h>

#include "hvp_json.h"

void hvp_json_strn(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);   /* bytes, not code points: always valid JSON */
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

void hvp_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	hvp_json_strn(f, s, strlen(s));
}
