/**
 * The cache sample daemon: a memcached-compatible server (text and meta commands of memcached
 * 1.6.18) over an LRU store bounded by memory. For plugin authors, as an example of a real protocol
 * written for speed; for operators, docs/protocols/cache.md describes the wire protocol and limits.
 * Nothing here is API: only {@link dev.daemonkit.samples.cache.CachePlugin} is public.
 */
package dev.daemonkit.samples.cache;
