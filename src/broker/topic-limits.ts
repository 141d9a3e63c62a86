/** True when a topic is over the configured length, or has more levels (after the key, before options). */
export function topicTooLong(
  topic: string,
  limits: { readonly maxTopicLength: number; readonly maxTopicLevels: number },
): boolean {
  if (topic.length > limits.maxTopicLength) return true;
  // Levels after the key, options excluded: count slashes before any '?', stopping once over the limit.
  const end = topic.indexOf('?') >= 0 ? topic.indexOf('?') : topic.length;
  let slashes = 0;
  for (let i = topic.indexOf('/'); i >= 0 && i < end; i = topic.indexOf('/', i + 1)) {
    if (++slashes - 1 > limits.maxTopicLevels) return true;
  }
  return false;
}
