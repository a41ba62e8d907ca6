/* execve /bin/true with argv[1] (default 2000) environment variables. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	char **env = calloc((size_t)n + 1, sizeof(char *));
	if (!env)
		return 2;
	for (int i = 0; i < n; i++) {
		env[i] = malloc(48);
		if (!env[i])
			return 2;
		snprintf(env[i], 48, "HVT_VAR_%04d=value-%d", i, i);
	}
	char *args[] = { "/bin/true", NULL };
	execve(args[0], args, env);
	return 127;
}
