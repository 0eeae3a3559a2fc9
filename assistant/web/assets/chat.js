// [n] in an answer opens its card: the card is shown (its <details> opened), scrolled to, focused and outlined.
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#citation-"]');
  if (!link) return;
  const card = document.getElementById(link.getAttribute('href').slice(1));
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  const turn = card.closest('details');
  if (turn) turn.open = true;
  document.querySelectorAll('.citation-card.open').forEach((c) => c.classList.remove('open'));
  card.classList.add('open');
  card.setAttribute('tabindex', '-1');
  card.scrollIntoView({block: 'center'});
  card.focus({preventScroll: true});
}, true);
