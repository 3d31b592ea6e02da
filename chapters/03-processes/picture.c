/*
 * picture.c - pictures for Chapter 3, Part B (support code, not an
 * exercise): the notes' process_image row by row, serially and with
 * threads, and pictures in and out of files. The contract is in image.h.
 *
 * Files are read and written whole: a PNG through libpng's simplified API
 * (png_image, libpng 1.6), which converts whatever it reads (a palette,
 * alpha, 16-bit samples) to the 8-bit grey or RGB this chapter works on;
 * a PGM or PPM (P5, P6) by hand, since the format is a short text header
 * followed by the bytes exactly as struct image holds them.
 */
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <png.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

//DOC: process-rows
/*
 * Not static and not inline, and in a file of its own: every mode (serial,
 * threads, pipes, shared memory) runs this same compiled loop, so that none
 * is faster only because the compiler specialised its copy.
 */
void image_process_rows(const struct image *in, struct image *out,
			int lo, int hi)
{
	size_t row = image_row_bytes(in);
	size_t end = (size_t)hi * row;

	for (size_t i = (size_t)lo * row; i < end; i++)
		out->pixels[i] = image_pixel(in->pixels[i]);
}
//DOC-END: process-rows

int image_alloc(struct image *img, int width, int height, int channels)
{
	size_t bytes;

	*img = (struct image){ 0 };
	if (width <= 0 || height <= 0 || (channels != 1 && channels != 3))
		return EINVAL;
	/* Rows and offsets are ints elsewhere; keep the byte count a size_t
	   that cannot overflow. */
	if ((size_t)width > SIZE_MAX / (size_t)channels / (size_t)height)
		return ENOMEM;
	bytes = (size_t)width * (size_t)channels * (size_t)height;
	if ((img->pixels = calloc(bytes, 1)) == NULL)
		return ENOMEM;
	img->width = width;
	img->height = height;
	img->channels = channels;
	return 0;
}

void image_free(struct image *img)
{
	if (img->mapped != 0)
		munmap(img->pixels, img->mapped);
	else
		free(img->pixels);
	*img = (struct image){ 0 };
}

int image_process_serial(const struct image *in, struct image *out)
{
	int err;

	*out = (struct image){ 0 };
	if (in->pixels == NULL)
		return EINVAL;
	if ((err = image_alloc(out, in->width, in->height, in->channels)) != 0)
		return err;
	image_process_rows(in, out, 0, in->height);
	return 0;
}

/* One thread's share of image_process_threads(). */
struct image_slice {
	pthread_t thread;
	const struct image *in;
	struct image *out;
	int lo, hi;
};

static void *image_thread(void *arg)
{
	struct image_slice *s = arg;

	image_process_rows(s->in, s->out, s->lo, s->hi);
	return NULL;
}

int image_process_threads(const struct image *in, struct image *out,
			  int workers)
{
	struct image_slice s[PMAP_MAX_WORKERS];
	int err, started;

	*out = (struct image){ 0 };
	if (workers < 1 || workers > PMAP_MAX_WORKERS || in->pixels == NULL)
		return EINVAL;
	if ((err = image_alloc(out, in->width, in->height, in->channels)) != 0)
		return err;
	/* The same split as the processes': thread k gets the rows worker k would. */
	for (started = 0; started < workers; started++) {
		int k = started;

		s[k] = (struct image_slice){
			.in = in, .out = out,
			.lo = (int)((long long)in->height * k / workers),
			.hi = (int)((long long)in->height * (k + 1) / workers),
		};
		if ((err = pthread_create(&s[k].thread, NULL, image_thread, &s[k])) != 0)
			break;
	}
	for (int k = 0; k < started; k++)
		pthread_join(s[k].thread, NULL);
	if (err != 0)
		image_free(out);
	return err;
}

int image_scale_up(const struct image *in, int factor, struct image *out)
{
	size_t row_in, row_out;
	int err;

	*out = (struct image){ 0 };
	if (in->pixels == NULL || factor < 1 || in->width > INT_MAX / factor ||
	    in->height > INT_MAX / factor)
		return EINVAL;
	err = image_alloc(out, in->width * factor, in->height * factor, in->channels);
	if (err != 0)
		return err;
	row_in = image_row_bytes(in);
	row_out = image_row_bytes(out);
	for (int y = 0; y < out->height; y++) {
		const uint8_t *src = in->pixels + (size_t)(y / factor) * row_in;
		uint8_t *dst = out->pixels + (size_t)y * row_out;

		for (int x = 0; x < out->width; x++)
			memcpy(dst + (size_t)x * (size_t)in->channels,
			       src + (size_t)(x / factor) * (size_t)in->channels,
			       (size_t)in->channels);
	}
	return 0;
}

/* --- Files --------------------------------------------------------------- */

/* Fill err with a sentence, if there is room for one; return the error. */
static int image_error(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int image_error(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

enum image_kind { IMAGE_PNG, IMAGE_PNM, IMAGE_UNKNOWN };

/* By the name's ending, ignoring case. */
static enum image_kind image_kind(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return IMAGE_UNKNOWN;
	if (strcasecmp(dot, ".png") == 0)
		return IMAGE_PNG;
	if (strcasecmp(dot, ".pgm") == 0 || strcasecmp(dot, ".ppm") == 0)
		return IMAGE_PNM;
	return IMAGE_UNKNOWN;
}

static int image_read_png(const char *path, struct image *img, char *err,
			  size_t errlen)
{
	png_image png = { .version = PNG_IMAGE_VERSION };
	int channels, e;

	errno = 0;
	if (!png_image_begin_read_from_file(&png, path)) {
		/* libpng keeps no errno; a file that cannot be opened is the
		   usual cause, which fopen() would have set. */
		e = errno != 0 ? errno : EINVAL;
		return image_error(err, errlen, e, "%s: %s", path, png.message);
	}
	/* Colour pictures (with or without alpha or a palette) become RGB,
	   the others grey; alpha is composed over black, 16 bits become 8. */
	channels = (png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
	png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	if (png.width > INT_MAX || png.height > INT_MAX ||
	    (e = image_alloc(img, (int)png.width, (int)png.height, channels)) != 0) {
		png_image_free(&png);
		return image_error(err, errlen, ENOMEM,
				   "%s: %u x %u pixels: not enough memory",
				   path, png.width, png.height);
	}
	if (!png_image_finish_read(&png, NULL, img->pixels,
				   (png_int_32)image_row_bytes(img), NULL)) {
		image_free(img);
		return image_error(err, errlen, EINVAL, "%s: %s", path, png.message);
	}
	return 0;
}

static int image_write_png(const char *path, const struct image *img,
			   char *err, size_t errlen)
{
	png_image png = {
		.version = PNG_IMAGE_VERSION,
		.width = (png_uint_32)img->width,
		.height = (png_uint_32)img->height,
		.format = img->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY,
	};

	errno = 0;
	if (!png_image_write_to_file(&png, path, 0, img->pixels,
				     (png_int_32)image_row_bytes(img), NULL))
		return image_error(err, errlen, errno != 0 ? errno : EIO,
				   "%s: %s", path, png.message);
	return 0;
}

/*
 * A number of a PGM/PPM header: skip white space and comments (# to the
 * end of the line), then read decimal digits. Returns -1 if there is none
 * or it is larger than INT_MAX.
 */
static long image_pnm_number(FILE *f)
{
	long n = 0;
	int c;

	while ((c = getc(f)) != EOF && (isspace(c) || c == '#'))
		if (c == '#')
			while ((c = getc(f)) != EOF && c != '\n')
				;
	if (c == EOF || !isdigit(c))
		return -1;
	for (; c != EOF && isdigit(c); c = getc(f))
		if ((n = n * 10 + (c - '0')) > INT_MAX)
			return -1;
	/* Exactly one white space character ends the header's last number;
	   a digit's end is that character, consumed here. */
	if (c != EOF && !isspace(c))
		return -1;
	return n;
}

static int image_read_pnm(const char *path, struct image *img, char *err,
			  size_t errlen)
{
	FILE *f;
	char magic[2];
	long width, height, maxval;
	int channels, e;

	if ((f = fopen(path, "rb")) == NULL)
		return image_error(err, errlen, errno, "%s: %s", path, strerror(errno));
	if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' ||
	    (magic[1] != '5' && magic[1] != '6')) {
		fclose(f);
		return image_error(err, errlen, EINVAL,
				   "%s: not a binary PGM or PPM (P5 or P6)", path);
	}
	channels = magic[1] == '6' ? 3 : 1;
	width = image_pnm_number(f);
	height = image_pnm_number(f);
	maxval = image_pnm_number(f);
	if (width <= 0 || height <= 0 || maxval != 255) {
		fclose(f);
		return image_error(err, errlen, EINVAL,
				   "%s: bad header (width, height, or a maxval other than 255)",
				   path);
	}
	if ((e = image_alloc(img, (int)width, (int)height, channels)) != 0) {
		fclose(f);
		return image_error(err, errlen, e, "%s: %ld x %ld pixels: %s",
				   path, width, height, strerror(e));
	}
	if (fread(img->pixels, 1, image_bytes(img), f) != image_bytes(img)) {
		e = ferror(f) ? EIO : EINVAL;
		fclose(f);
		image_free(img);
		return image_error(err, errlen, e, "%s: %s", path,
				   e == EIO ? "read error" : "the file ends before its last pixel");
	}
	fclose(f);
	return 0;
}

static int image_write_pnm(const char *path, const struct image *img,
			   char *err, size_t errlen)
{
	FILE *f;
	int e = 0;

	errno = 0;
	if ((f = fopen(path, "wb")) == NULL)
		return image_error(err, errlen, errno, "%s: %s", path, strerror(errno));
	if (fprintf(f, "P%c\n%d %d\n255\n", img->channels == 3 ? '6' : '5',
		    img->width, img->height) < 0 ||
	    fwrite(img->pixels, 1, image_bytes(img), f) != image_bytes(img))
		e = errno != 0 ? errno : EIO;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (e != 0)
		return image_error(err, errlen, e, "%s: %s", path, strerror(e));
	return 0;
}

int image_read(const char *path, struct image *img, char *err, size_t errlen)
{
	*img = (struct image){ 0 };
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	switch (image_kind(path)) {
	case IMAGE_PNG:
		return image_read_png(path, img, err, errlen);
	case IMAGE_PNM:
		return image_read_pnm(path, img, err, errlen);
	default:
		return image_error(err, errlen, EINVAL,
				   "%s: the name must end in .png, .pgm or .ppm", path);
	}
}

int image_write(const char *path, const struct image *img, char *err,
		size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (img->pixels == NULL || img->width <= 0 || img->height <= 0 ||
	    (img->channels != 1 && img->channels != 3))
		return image_error(err, errlen, EINVAL, "%s: no picture to write", path);
	switch (image_kind(path)) {
	case IMAGE_PNG:
		return image_write_png(path, img, err, errlen);
	case IMAGE_PNM:
		return image_write_pnm(path, img, err, errlen);
	default:
		return image_error(err, errlen, EINVAL,
				   "%s: the name must end in .png, .pgm or .ppm", path);
	}
}
