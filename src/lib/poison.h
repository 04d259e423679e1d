/*
 * poison.h — forbids the unbounded C string functions in all of petrel.
 *
 * Included into every translation unit by the build (-include). Use the
 * length-carrying struct buf (buf.h) or snprintf instead.
 */
#ifndef PETREL_POISON_H
#define PETREL_POISON_H

/* System headers may mention these names; load them before poisoning. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#pragma GCC poison strcpy strcat sprintf vsprintf gets stpcpy strncat
#endif
