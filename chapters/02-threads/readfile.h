/*
 * readfile.h - the notes' process_file in C: read a whole file into memory.
 *
 * Support code for Chapter 2, not an exercise: the tests and the harness
 * link it, and the book quotes it beside the notes' Python
 *
 *     with open(filename, 'r') as f:
 *         data = f.read()
 *
 * to show what that one f.read() does underneath: open(2), fstat(2), and
 * read(2) in a loop. The function keeps the notes' name, so that the two
 * can be set side by side.
 */
#ifndef READFILE_H
#define READFILE_H

#include <stddef.h>

//DOC: api
/*
 * Read the whole file at path into a new buffer. On success returns 0,
 * *data points to the bytes read followed by a NUL (not counted), and
 * *length is how many bytes were read; the buffer belongs to the caller,
 * who frees it with free(). On error returns an error number (that of
 * open(2), fstat(2) or read(2), EISDIR for a directory, EFBIG if the file
 * does not fit in memory, ENOMEM) and leaves *data and *length alone;
 * nothing is left allocated and no descriptor is left open. errno is left
 * as it was, whatever happened.
 *
 * Safe to call from any number of threads at once: it shares nothing.
 */
int process_file(const char *path, char **data, size_t *length);
//DOC-END: api

#endif /* READFILE_H */
