// The chat's behaviour beyond Gradio's: the conversation and the sources scroll inside their own panes, so
// - a new question scrolls the conversation to it (the answer's start stays in view as it streams in);
// - [n] in an answer opens its card: shown (its <details> opened), scrolled to within the sources pane,
//   its passage scrolled to the first highlight, focused and outlined;
// - the sources pane follows the answer being read as the conversation scrolls;
// - each message's screen-reader label is its text, each [n] read as "[source n]", not Markdown link syntax, in the
//   page's language (window.procureAiTexts, set by chat.py; window.procureAiLang, set when the page's language is).
(() => {
  const scrollable = (el) => el && el.scrollHeight > el.clientHeight + 1 && getComputedStyle(el).overflowY !== 'visible';

  // Scroll `container` so that `el` starts `offset` pixels below its top.
  const scrollWithin = (container, el, offset) => {
    container.scrollTop += el.getBoundingClientRect().top - container.getBoundingClientRect().top - offset;
  };

  // A passage that scrolls inside its card is opened at its first highlight.
  const showMark = (passage) => {
    const mark = passage.querySelector('mark');
    if (!mark || !scrollable(passage)) return;
    const box = passage.getBoundingClientRect(), at = mark.getBoundingClientRect();
    if (at.top >= box.top && at.bottom <= box.bottom) return;
    passage.scrollTop += at.top - box.top - Math.min(passage.clientHeight / 5, 48);
  };

  const sourcesPane = () => document.getElementById('sources');
  const chatLog = () => document.querySelector('#chat [role=log]');

  const openCard = (card) => {
    const turn = card.closest('details');
    if (turn) turn.open = true;
    document.querySelectorAll('.citation-card.open').forEach((c) => c.classList.remove('open'));
    card.classList.add('open');
    const pane = sourcesPane();
    if (scrollable(pane)) scrollWithin(pane, card, 4);
    else card.scrollIntoView({block: 'start'});  // one column (a phone): the page scrolls instead
    const passage = card.querySelector('.passage');
    if (passage) showMark(passage);
    card.setAttribute('tabindex', '-1');
    card.focus({preventScroll: true});
  };

  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#citation-"]');
    if (!link) return;
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    openCard(card);
  }, true);

  // An earlier question's sources, opened by hand, open at their highlights too.
  document.addEventListener('toggle', (event) => {
    if (event.target.matches && event.target.matches('details.sources-turn') && event.target.open)
      event.target.querySelectorAll('.passage').forEach(showMark);
  }, true);

  // The answer being read: the first one still filling the top quarter of the conversation pane, or the last
  // one when the pane is scrolled to its end.
  let followed = null;
  const follow = () => {
    const log = chatLog(), pane = sourcesPane();
    if (!log || !pane) return;
    const bots = [...log.querySelectorAll("[data-testid='bot']")];
    const line = log.getBoundingClientRect().top + log.clientHeight / 4;
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
    const reading = atEnd ? bots[bots.length - 1] : bots.find((bot) => bot.getBoundingClientRect().bottom > line);
    const link = reading && reading.querySelector("a[href^='#citation-']");
    const turn = link && link.getAttribute('href').split('-')[1];
    if (!turn || turn === followed) return;
    followed = turn;
    const group = document.getElementById('sources-turn-' + turn);
    if (!group) return;
    group.open = true;
    if (scrollable(pane)) scrollWithin(pane, group, 0);
    group.querySelectorAll('.passage').forEach(showMark);
  };
  let pending = false;
  document.addEventListener('scroll', (event) => {
    if (pending || !(event.target.matches && event.target.matches('#chat [role=log]'))) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; follow(); });
  }, true);

  const say = (key) => ((window.procureAiTexts || {})[window.procureAiLang || 'en'] || {})[key] || '';
  const label = (bubble) => {
    const content = (bubble.querySelector('.message-content') || bubble).cloneNode(true);
    content.querySelectorAll("a[href^='#citation-']").forEach(
      (a) => a.replaceWith(say('sr_source').replace('{n}', a.textContent.replace(/[^0-9]/g, ''))));
    content.querySelectorAll('button, svg').forEach((x) => x.remove());
    const text = content.textContent.replace(/\s+/g, ' ').trim();
    const wanted = say(bubble.dataset.testid === 'bot' ? 'sr_answer' : 'sr_question') + text;
    if (bubble.getAttribute('aria-label') !== wanted) bubble.setAttribute('aria-label', wanted);
  };

  let questions = 0, sourcesShown = null;
  const update = () => {
    const log = chatLog();
    if (log) {
      log.querySelectorAll("[data-testid='bot'], [data-testid='user']").forEach(label);
      const asked = log.querySelectorAll("[data-testid='user']");
      if (asked.length > questions) {  // a new question: bring it to the top, its answer streams in below it
        const row = asked[asked.length - 1].closest('.message-row') || asked[asked.length - 1];
        scrollWithin(log, row, 4);
      }
      questions = asked.length;
    }
    const pane = sourcesPane();
    const first = pane && pane.querySelector('.sources-turn');
    const latest = first ? first.id : null;  // Gradio may reuse the element for the next answer's group: compare ids
    if (pane && latest !== sourcesShown) {  // new sources (the latest first): show them from the top, at their highlights
      sourcesShown = latest;
      followed = latest ? latest.split('-').pop() : null;
      pane.scrollTop = 0;
      pane.querySelectorAll('details[open] .passage').forEach(showMark);
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; update(); });
  }).observe(document.documentElement, {subtree: true, childList: true, characterData: true});
})();
