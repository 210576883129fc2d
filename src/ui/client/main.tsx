/**
 * The kumo web console: sign in with an API key, then every page is a view of /api/v1. What the
 * key's scopes allow is what the page offers: read sees, deploy acts, admin administers.
 */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Api, ApiError } from './api.ts';
import { href, parseRoute, type Route } from './route.ts';
import { SessionContext, sessionOf, useSession, type Session } from './session.ts';
import { AdminView } from './views/admin.tsx';
import { FunctionPage } from './views/function-page.tsx';
import { FunctionsView } from './views/functions.tsx';
import { InvocationPage } from './views/invocation.tsx';
import { InvocationsView } from './views/invocations.tsx';
import { InvokeView } from './views/invoke.tsx';
import { LogsView } from './views/logs.tsx';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function App() {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const signOut = (why?: string) => {
    setSession(undefined);
    setNotice(why);
  };
  if (!session)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          s.api.onUnauthorized = () => signOut('The key stopped working (revoked?): sign in again.');
          setNotice(undefined);
          setSession(s);
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={() => signOut()} />
    </SessionContext.Provider>
  );
}

function SignIn(props: { notice: string | undefined; onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const api = new Api(key.trim());
    try {
      const caller = await api.whoami();
      setKey('');
      props.onSignedIn(sessionOf(api, caller));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That key is not valid (unknown, revoked or mistyped).'
          : String(err instanceof Error ? err.message : err),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={(e) => void submit(e)} data-view="signin">
        <h1>kumo</h1>
        <p class="muted">
          Sign in with an API key (kumo_…). A local server's admin key is in .kumo/admin.key.
        </p>
        {props.notice ? <p class="error">{props.notice}</p> : null}
        <input
          type="password"
          name="kumo-key"
          autocomplete="off"
          placeholder="kumo_…"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-label="API key"
          required
        />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <p class="muted small">The key is kept in this page's memory only: reloading the page signs out.</p>
      </form>
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const [insecure, setInsecure] = useState(false);
  useEffect(() => {
    if (!session.can('read')) return;
    session.api.get<{ insecure: boolean }>('/status').then(
      (s) => setInsecure(s.insecure),
      () => undefined,
    );
  }, [session]);
  const nav: [Route['page'], string, string][] = [
    ['functions', 'Functions', href({ page: 'functions' })],
    ['invocations', 'Invocations', href({ page: 'invocations', function: undefined, status: undefined })],
  ];
  if (session.can('admin')) nav.push(['admin', 'Admin', href({ page: 'admin' })]);
  return (
    <>
      {insecure ? (
        <div class="banner" role="alert" data-field="insecure-banner">
          This server runs with --insecure-no-sandbox: functions are not isolated and can read and change this
          host.
        </div>
      ) : null}
      <header class="top">
        <a class="brand" href={href({ page: 'functions' })}>
          kumo
        </a>
        <nav>
          {nav.map(([page, label, link]) => (
            <a key={page} href={link} class={route.page === page ? 'on' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who" data-field="who">
          {session.caller.name} ({session.caller.scopes.join(', ')})
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  const session = useSession();
  switch (route.page) {
    case 'functions':
      return <FunctionsView />;
    case 'function':
      return <FunctionPage key={route.name} name={route.name} />;
    case 'invocations':
      return (
        <InvocationsView
          key={`${route.function}-${route.status}`}
          fn={route.function}
          status={route.status}
        />
      );
    case 'invocation':
      return <InvocationPage key={route.id} id={route.id} />;
    case 'logs':
      return <LogsView key={route.name} name={route.name} />;
    case 'invoke':
      return <InvokeView key={route.name} name={route.name} />;
    case 'admin':
      return session.can('admin') ? (
        <AdminView />
      ) : (
        <p class="error">The admin page needs a key with the admin scope.</p>
      );
  }
}

const root = document.getElementById('app');
if (root) render(<App />, root);
