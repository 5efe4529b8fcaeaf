/*
 * adapter: the registry of platform adapters (see adapter.h).
 */
#include "adapter.h"

#include <string.h>

static const struct adapter_ops *const registry[] = {
    &adapter_console,
    &adapter_discord,
    NULL,
};

const struct adapter_ops *
adapter_find(const char *name)
{
	for (const struct adapter_ops *const *a = registry; *a; a++)
		if (strcmp((*a)->name, name) == 0)
			return *a;
	return NULL;
}
