/*
 * config_reference.c — prints the reference table of every configuration
 * key, from the same tables the loader uses, for docs/configuration.md
 * (`make docs` writes it there; a test fails when the two differ).
 */
#include <stdio.h>

#include "lib/config_sections.h"

int main(void)
{
	printf("| key | default | meaning |\n|---|---|---|\n");
	config_section_document(stdout, &config_top_section, "");
	return 0;
}
