/* <stdint.h> for the shared freestanding sources built inside Xen (-nostdinc): Xen's own
 * fixed-width types. Not a header of the project's user space. */
#ifndef HVX_SHIM_STDINT_H
#define HVX_SHIM_STDINT_H
#include <xen/types.h>
#endif
