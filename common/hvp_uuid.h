/*
 * hvp_uuid.h - the one UUID text form of hvprov: 36 characters, lowercase hex, dashes after
 * bytes 4, 6, 8 and 10 ("8-4-4-4-12"), bytes in the order they are stored.
 */
#ifndef HVP_UUID_H
#define HVP_UUID_H

#include <stdint.h>

#define HVP_UUID_TEXT 37            /* 36 characters and the NUL */

/* Write uuid's text form into buf (HVP_UUID_TEXT bytes). @return buf. */
char *hvp_uuid_fmt(const uint8_t uuid[16], char buf[HVP_UUID_TEXT]);

/*
 * Parse a 128-bit id written as 32 hex digits, with or without the four dashes of the text
 * form (so /etc/machine-id and /proc/sys/kernel/random/boot_id both read); trailing white
 * space is allowed. @return 0, or -EINVAL.
 */
int hvp_uuid_parse(const char *s, uint8_t uuid[16]);

#endif
