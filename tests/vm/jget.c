/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jget - print one value of a JSON document, for the VM tests (busybox has no
 * JSON tool).  A helper, not a test.
 *
 *   jget FILE PATH     FILE "-" is stdin; PATH is dot-separated keys and array
 *                      indexes, e.g. providers.0.bdf; a final "#" prints the
 *                      length of an array or object; "" or "." the document.
 *
 * Strings print raw, other values as JSON.  Exit 0 found, 1 no such path,
 * 2 usage or parse error.
 *
 * rig-libs: -ljson-c
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(FILE *f)
{
	size_t len = 0, cap = 4096, n;
	char *s = malloc(cap);

	while (s && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *t = realloc(s, cap *= 2);

			if (!t) {
				free(s);
				return NULL;
			}
			s = t;
		}
	}
	if (s)
		s[len] = '\0';
	return s;
}

int main(int argc, char **argv)
{
	struct json_object *o, *root;
	char *text, *path, *key, *save = NULL;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: jget FILE PATH\n");
		return 2;
	}
	f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	text = slurp(f);
	if (!text)
		return 2;
	root = o = json_tokener_parse(text);
	if (!root) {
		fprintf(stderr, "jget: %s: not valid JSON\n", argv[1]);
		return 2;
	}
	path = strdup(argv[2]);
	for (key = strtok_r(path, ".", &save); key; key = strtok_r(NULL, ".", &save)) {
		if (!strcmp(key, "#")) {
			if (json_object_is_type(o, json_type_array))
				printf("%zu\n", json_object_array_length(o));
			else if (json_object_is_type(o, json_type_object))
				printf("%d\n", json_object_object_length(o));
			else
				return 1;
			return 0;
		}
		if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(key, &end, 10);

			if (*end || i < 0 || (size_t)i >= json_object_array_length(o))
				return 1;
			o = json_object_array_get_idx(o, (size_t)i);
		} else if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &o)) {
			return 1;
		}
	}
	if (json_object_is_type(o, json_type_string))
		printf("%s\n", json_object_get_string(o));
	else
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	free(path);
	free(text);
	return 0;
}
