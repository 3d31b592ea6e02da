/*
 * image.h - the contract of Chapter 3, Part B: the notes' process_image on
 * a real picture, split across forked workers by rows, once with the
 * pixels sent back through pipes and once written straight into memory
 * that the parent and its workers share.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write image_process_pipes() and image_process_shared() in image.c;
 * the rest is support code, given in picture.c.
 */
#ifndef IMAGE_H
#define IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmap.h"

//DOC: struct-image
/* A picture: height rows of width pixels of channels bytes each (1: grey,
   3: red, green, blue), row after row, with no padding. */
struct image {
	int width, height, channels;
	uint8_t *pixels;
	/* 0: pixels came from malloc(); otherwise pixels is a mapping of this
	   many bytes (mmap()), and image_free() unmaps it. */
	size_t mapped;
};
//DOC-END: struct-image

static inline size_t image_row_bytes(const struct image *img)
{
	return (size_t)img->width * (size_t)img->channels;
}

static inline size_t image_bytes(const struct image *img)
{
	return image_row_bytes(img) * (size_t)img->height;
}

//DOC: pixel
/* The notes' pixel * 1.2 + 100, in whole numbers, clamped to a byte: the
   same answer on every machine, so that outputs compare byte for byte. */
static inline uint8_t image_pixel(uint8_t v)
{
	unsigned w = (v * 6u) / 5u + 100u;

	return w > 255u ? 255u : (uint8_t)w;
}
//DOC-END: pixel

//DOC: api
/*
 * Both functions below do what image_process_serial() does, with `workers`
 * forked child processes: worker k transforms rows
 * [height * k / workers, height * (k + 1) / workers) with
 * image_process_rows(). On success they return 0, and *out is a new
 * picture of in's size whose bytes equal image_process_serial()'s; the
 * caller frees it with image_free(). Errors, as pmap_sum(): EINVAL (workers
 * not in 1 .. PMAP_MAX_WORKERS, or in has no pixels), ECHILD with *failure
 * naming the lowest-numbered worker that failed (killed, exited non-zero,
 * or, through pipes, sent fewer bytes than its rows), or an error of
 * pipe(), fork() or mmap(); then *out is left empty (pixels NULL, nothing
 * allocated). In every case every child has been reaped and every
 * descriptor the call opened is closed when it returns, and a worker holds
 * no descriptor of the call but its own.
 */

/*
 * Through pipes: worker k sends its rows, transformed, through a pipe of
 * its own with fd_write_full(); the parent reads them into out->pixels
 * (from malloc()) with fd_read_full() and reaps the worker. A pipe holds
 * 64 KiB: a worker blocks in write() until the parent reads.
 */
int image_process_pipes(const struct image *in, struct image *out,
			int workers, struct pmap_failure *failure);

/*
 * Through shared memory: out->pixels is one anonymous shared mapping
 * (mmap() with MAP_SHARED | MAP_ANONYMOUS, out->mapped its size), made
 * before the workers are forked; each worker writes its rows straight
 * into it and exits, and what it wrote is what the parent sees. No pixel
 * crosses a pipe, and no named shared memory object (shm_open) is left
 * behind.
 */
int image_process_shared(const struct image *in, struct image *out,
			 int workers, struct pmap_failure *failure);
//DOC-END: api

/* --- Support code (picture.c) ------------------------------------------- */

/* Transform rows [lo, hi) of in into the same rows of out, which has in's
   size: out->pixels[i] = image_pixel(in->pixels[i]). */
void image_process_rows(const struct image *in, struct image *out,
			int lo, int hi);

/* The serial version: the reference every other must equal, byte for
   byte. Returns 0 or ENOMEM; *out from malloc(). */
int image_process_serial(const struct image *in, struct image *out);

/* The same with `workers` threads of this process (pthreads), for the
   harness to compare with: returns 0, EINVAL, ENOMEM or a pthread error. */
int image_process_threads(const struct image *in, struct image *out,
			  int workers);

/* A new picture with malloc()ed, zeroed pixels: 0, EINVAL or ENOMEM. */
int image_alloc(struct image *img, int width, int height, int channels);

/* Free a picture's pixels (unmapping a mapping) and empty it. */
void image_free(struct image *img);

/*
 * Read and write a picture as PNG (8-bit grey or RGB, through libpng) or
 * as binary PGM/PPM (P5/P6, maxval 255), by the name's ending: ".png",
 * ".pgm", ".ppm". A PNG with alpha, a palette or 16 bits per sample is
 * converted to 8-bit grey or RGB on reading. Return 0, or an error number
 * (errno of the file operation, EINVAL for a format they cannot read) with
 * a sentence in err (if err is not NULL; errlen bytes, always terminated).
 */
int image_read(const char *path, struct image *img, char *err, size_t errlen);
int image_write(const char *path, const struct image *img, char *err,
		size_t errlen);

/* A picture scaled up `factor` times in each direction by repeating each
   pixel, for a large workload from a small photograph: 0, EINVAL, ENOMEM. */
int image_scale_up(const struct image *in, int factor, struct image *out);

#endif /* IMAGE_H */
