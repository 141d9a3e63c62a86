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

/**
 * True when a topic name or filter holds U+0000, which MQTT forbids in every string: the receiver closes
 * the connection [MQTT-1.5.3-2] (not a refusal of the one packet).
 */
export function holdsNullCharacter(text: string): boolean {
  return text.includes('\u0000');
}
