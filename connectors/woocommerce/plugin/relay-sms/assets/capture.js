/* Relay SMS: send the phone typed on the classic checkout, so an abandoned cart can be
 * reminded. Only the phone, name and e-mail fields are sent, when the customer leaves them. */
(function ($) {
	'use strict';
	if (!window.relaySmsCapture) {
		return;
	}
	var last = '';
	function capture() {
		var phone = $('#billing_phone').val() || '';
		if (phone.replace(/\D+/g, '').length < 7 || phone === last) {
			return;
		}
		last = phone;
		$.post(window.relaySmsCapture.url, {
			action: window.relaySmsCapture.action,
			nonce: window.relaySmsCapture.nonce,
			phone: phone,
			first_name: $('#billing_first_name').val() || '',
			last_name: $('#billing_last_name').val() || '',
			email: $('#billing_email').val() || ''
		});
	}
	$(document.body).on('change blur', '#billing_phone, #billing_email', capture);
}(jQuery));
