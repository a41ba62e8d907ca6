/* <stddef.h> for the shared freestanding sources built inside Xen (-nostdinc). */
#ifndef HVX_SHIM_STDDEF_H
#define HVX_SHIM_STDDEF_H
#include <xen/types.h>
#endif
