import type { RequestHandler } from 'express';
import helmet from 'helmet';

const ADMIN_PATH = /^\/admin(\/|$)/;

/**
 * helmet's headers on every answer. JSON answers get the strictest CSP (they load nothing); the
 * admin pages get one bull-board's UI works under: its own scripts, styles and images, inline
 * styles (its loading screen uses them), and nothing from other origins (its Google Fonts link is
 * blocked on purpose, so an admin's browser never calls Google; the UI falls back to system fonts).
 */
export function securityHeaders(): RequestHandler[] {
  const api = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
  const admin = helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });
  return [api, (request, response, next) => (ADMIN_PATH.test(request.path) ? admin(request, response, next) : next())];
}
