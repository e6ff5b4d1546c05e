import type Anthropic from '@anthropic-ai/sdk';

/** The image media types Anthropic accepts; any other is refused rather than sent to a 400. */
export const ANTHROPIC_IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
type AnthropicImageMediaType = (typeof ANTHROPIC_IMAGE_MEDIA_TYPES)[number];

function isAnthropicImageMediaType(value: string): value is AnthropicImageMediaType {
  return (ANTHROPIC_IMAGE_MEDIA_TYPES as readonly string[]).includes(value);
}

export type AnthropicImageSource =
  { ok: true; source: Anthropic.Base64ImageSource | Anthropic.URLImageSource } | { ok: false; problem: string };

/**
 * An OpenAI `image_url.url` as an Anthropic image source: an https URL as a `url` source (the API
 * fetches it), a `data:<type>;base64,<data>` URL as a `base64` source.
 */
export function toAnthropicImageSource(url: string): AnthropicImageSource {
  if (url.startsWith('https://')) return { ok: true, source: { type: 'url', url } };
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma === -1) {
    return { ok: false, problem: 'must be an https:// URL or a data:<type>;base64,<data> URL, as required' };
  }
  const [mediaType = '', ...parameters] = url.slice('data:'.length, comma).split(';');
  const normalised = mediaType.trim().toLowerCase();
  if (!isAnthropicImageMediaType(normalised)) {
    return {
      ok: false,
      problem: `is of type "${mediaType}"; only ${ANTHROPIC_IMAGE_MEDIA_TYPES.join(', ')} are accepted`,
    };
  }
  if (!parameters.some((parameter) => parameter.trim().toLowerCase() === 'base64')) {
    return { ok: false, problem: 'must be base64-encoded (data:<type>;base64,<data>), as required' };
  }
  const data = url.slice(comma + 1);
  if (data === '') return { ok: false, problem: 'holds no image data, which is not accepted' };
  return { ok: true, source: { type: 'base64', media_type: normalised, data } };
}
