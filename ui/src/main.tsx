import { render } from 'preact';
import { ComparePage } from './compare-page.js';
import { ModelsPage } from './models-page.js';
import { useRoute } from './router.js';
import { RunPage } from './run-page.js';
import { RunsPage } from './runs-page.js';
import './styles.css';

function App() {
  const route = useRoute();
  const tab = (page: string, href: string, label: string) => (
    <a href={href} class={route.page === page || (page === 'runs' && route.page === 'run') ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          mlpipe
        </a>
        <nav>
          {tab('runs', '#/', 'Runs')}
          {tab('compare', location.hash.startsWith('#/compare') ? location.hash : '#/', 'Compare')}
          {tab('models', '#/models', 'Models')}
        </nav>
      </header>
      <main>
        {route.page === 'runs' && <RunsPage />}
        {route.page === 'run' && <RunPage id={route.id!} />}
        {route.page === 'compare' && <ComparePage query={route.query} />}
        {route.page === 'models' && <ModelsPage />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
