/* hvp_uuid.c - UUID text (see hvp_uuid.h). */
#include "hvp_uuid.h"

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
