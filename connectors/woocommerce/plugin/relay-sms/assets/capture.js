/* Relay SMS: on the classic checkout, send the phone and name typed, with the state of the
 * SMS consent box, so the cart of a customer who agreed can be reminded. The server keeps
 * nothing for a customer who did not agree (unless the store reports every cart). */
(function ($) {
	'use strict';
	if (!window.relaySmsCapture) {
		return;
	}
	var last = '';
	function capture() {
		var phone = $('#billing_phone').val() || '';
		var box = $('[name="' + window.relaySmsCapture.field + '"]');
		var consent = box.length && box.is(':checked') ? '1' : '0';
		var state = phone + '|' + consent;
		if (phone.replace(/\D+/g, '').length < 7 || state === last) {
			return;
		}
		last = state;
		$.post(window.relaySmsCapture.url, {
			action: window.relaySmsCapture.action,
			nonce: window.relaySmsCapture.nonce,
			phone: phone,
			first_name: $('#billing_first_name').val() || '',
			last_name: $('#billing_last_name').val() || '',
			email: $('#billing_email').val() || '',
			consent: consent
		});
	}
	$(document.body).on('change blur', '#billing_phone, [name="' + window.relaySmsCapture.field + '"]', capture);
}(jQuery));
