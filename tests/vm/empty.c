/* SPDX-License-Identifier: GPL-2.0 */
/* empty - the cost of starting a program linked against the C library, as
 * p2pmem and GNU dd are, for the start-up test.  A helper, not a test. */
int main(void)
{
	return 0;
}
