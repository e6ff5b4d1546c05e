import cookieParser from 'cookie-parser';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { HttpError } from '../http-error.js';
import { adminBatchHandlers, type AdminBatchesOptions } from './admin-batch-routes.js';
import { ADMIN_BATCHES_PATH } from './admin-batch-pages.js';
import { adminLoginPage } from './admin-login-page.js';
import { ADMIN_BOARD_PATH, createAdminBoard, type AdminBoardOptions } from './admin-board.js';
import {
  ADMIN_SESSION_COOKIE,
  ADMIN_SESSION_MS,
  sameToken,
  isLiveSession,
  newSessionValue,
  sessionSigningSecret,
} from './admin-session.js';

/** The RFC 6750 challenge of the dashboard's 401s (JSON clients; a browser gets the login form). */
const ADMIN_CHALLENGE = 'Bearer realm="llmq-admin"';

export interface AdminRoutesOptions extends AdminBoardOptions {
  /** `LLMQ_ADMIN_TOKEN`: what the login form and `Authorization: Bearer` must present. */
  token: string;
  /** The batches pages at /admin/batches; without it they answer 404. */
  batches?: AdminBatchesOptions;
}

const wantsHtml = (request: Request) => request.accepts(['json', 'html']) === 'html';

// Secure whenever the browser reached us over HTTPS, directly or through a TLS-terminating proxy.
const overHttps = (request: Request) =>
  request.secure ||
  String(request.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim() === 'https';

function sendLoginPage(response: Response, status: number, problem?: string): void {
  response
    .status(status)
    .set('cache-control', 'no-store')
    .type('html')
    .send(adminLoginPage(problem === undefined ? {} : { problem }));
}

/**
 * The dashboard (bull-board at /admin/queues) behind `LLMQ_ADMIN_TOKEN`: a login form at
 * /admin/login sets a signed HttpOnly, SameSite=Strict session cookie; scripts may send the
 * token as a Bearer header instead.
 */
export function adminRoutes(options: AdminRoutesOptions): Router {
  const router = Router();
  const readCookies = cookieParser(sessionSigningSecret(options.token));

  const isAdmin = (request: Request): boolean => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match?.[1] !== undefined) return sameToken(match[1], options.token);
    return isLiveSession((request.signedCookies as Record<string, unknown>)[ADMIN_SESSION_COOKIE]);
  };

  const requireAdmin: RequestHandler = (request, response, next) => {
    if (isAdmin(request)) return next();
    // A browser opening the dashboard is shown the way in; anything else gets the error body.
    if (request.method === 'GET' && wantsHtml(request)) return response.redirect(303, '/admin/login');
    response.set('www-authenticate', ADMIN_CHALLENGE);
    throw new HttpError(401, 'authentication', 'log in at /admin/login or send "Authorization: Bearer <admin token>"');
  };

  router.use('/admin', readCookies);

  router.get('/admin', (_request, response) => response.redirect(303, ADMIN_BOARD_PATH));

  router.get('/admin/login', (_request, response) => sendLoginPage(response, 200));

  router.post('/admin/login', express.urlencoded({ extended: false, limit: '4kb' }), (request, response) => {
    const token = (request.body as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || !sameToken(token, options.token)) {
      request.log.warn('admin login refused');
      if (wantsHtml(request)) return sendLoginPage(response, 401, 'That is not the admin token.');
      response.set('www-authenticate', ADMIN_CHALLENGE);
      throw new HttpError(401, 'authentication', 'wrong admin token');
    }
    response.cookie(ADMIN_SESSION_COOKIE, newSessionValue(), {
      signed: true,
      httpOnly: true,
      sameSite: 'strict',
      secure: overHttps(request),
      path: '/admin',
      maxAge: ADMIN_SESSION_MS,
    });
    request.log.info('admin logged in');
    response.redirect(303, ADMIN_BOARD_PATH);
  });

  // A link in the board's menu (GET) or a form (POST): either ends the session in this browser.
  const logOut: RequestHandler = (request, response) => {
    response.clearCookie(ADMIN_SESSION_COOKIE, { path: '/admin' });
    request.log.info('admin logged out');
    response.set('cache-control', 'no-store').redirect(303, '/admin/login');
  };
  router.get('/admin/logout', logOut);
  router.post('/admin/logout', logOut);

  if (options.batches) {
    const pages = adminBatchHandlers({ ...options.batches, store: options.store, llmQueueName: options.llmQueue.name });
    router.get(ADMIN_BATCHES_PATH, requireAdmin, pages.list);
    router.get(`${ADMIN_BATCHES_PATH}/:tenant/:id`, requireAdmin, pages.batch);
  }
  router.use(ADMIN_BOARD_PATH, requireAdmin, createAdminBoard(options));
  return router;
}
