/* hvp_uuid.c - UUID text (see hvp_uuid.h). */
#include "hvp_uuid.h"

#include <errno.h>

char *hvp_uuid_fmt(const uint8_t u[16], char buf[HVP_UUID_TEXT])
{
	static const char hex[] = "0123456789abcdef";
	int j = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[j++] = '-';
		buf[j++] = hex[u[i] >> 4];
		buf[j++] = hex[u[i] & 15];
	}
	buf[j] = 0;
	return buf;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hvp_uuid_parse(const char *s, uint8_t id[16])
{
	int n = 0;
	const char *p = s;
	while (n < 32 && *p) {
		if (*p == '-' && (n == 8 || n == 12 || n == 16 || n == 20)) {
			p++;
			continue;
		}
		int v = hexval((unsigned char)*p++);
		if (v < 0)
			return -EINVAL;
		if (n % 2 == 0)
			id[n / 2] = (uint8_t)(v << 4);
		else
			id[n / 2] |= (uint8_t)v;
		n++;
	}
	if (n != 32)
		return -EINVAL;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return *p ? -EINVAL : 0;
}
